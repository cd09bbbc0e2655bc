/**
 * Shape of the IVI descriptor that `tools/generate.ts` derives from the official XSD. The writer,
 * the reader, the rules and the synthetic coverage tests walk this instead of hand-written
 * per-element code, so a new official schema means regenerating, not rewriting.
 */

/** How the text of a simple-typed element maps to JSON: XSD base type, reduced to what matters. */
export type IviValueKind = 'string' | 'integer' | 'decimal' | 'date' | 'dateTime';

export interface IviSimpleType {
  kind: IviValueKind;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enumeration?: readonly string[];
  minInclusive?: number;
  maxInclusive?: number;
  totalDigits?: number;
  fractionDigits?: number;
}

export interface IviElement {
  name: string;
  /** A key of `simpleTypes` or of `complexTypes`. */
  type: string;
  minOccurs: number;
  /** `null` means unbounded. */
  maxOccurs: number | null;
}

/**
 * `all`: each child at most once, order free (the writer still uses the declared order).
 * `sequence`: in IVI always a table holding one repeated group.
 */
export interface IviComplexType {
  compositor: 'all' | 'sequence';
  elements: readonly IviElement[];
}

export interface IviDescriptor {
  namespace: string;
  signatureNamespace: string;
  rootElement: string;
  /** The root's data children in declared order (the mandatory ds:Signature is handled apart). */
  rootChildren: readonly IviElement[];
  complexTypes: Readonly<Record<string, IviComplexType>>;
  simpleTypes: Readonly<Record<string, IviSimpleType>>;
}
