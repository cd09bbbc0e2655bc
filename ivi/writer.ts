import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { iviDescriptor, iviMessageSchema } from '../schemas/ivi/index.ts';
import type { IviMessage } from '../schemas/ivi/index.ts';
import { decimalText } from '../schemas/ivi/facets.ts';
import { fieldPath } from './paths.ts';
import { validateUnsignedIviXml } from './xsd.ts';
import type { IviSchemaError } from './xsd.ts';

/**
 * Writes an IVI 2.0 message: official namespace, elements in the XSD's declared order, compact
 * (no indentation, no line breaks) so signing can append ds:Signature and nothing is re-indented
 * afterwards. The result is checked against the official XSD with the signature made optional.
 */

export class IviModelError extends Error {
  override name = 'IviModelError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`IVI data does not fit the IVI 2.0 model:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`);
  }
}

export class IviSchemaViolation extends Error {
  override name = 'IviSchemaViolation';
  constructor(readonly errors: IviSchemaError[]) {
    super(`generated IVI message is not valid against IVI_2.0.xsd:\n${errors.map((error) => `  line ${error.line ?? '?'}: ${error.message}`).join('\n')}`);
  }
}

type Json = Record<string, unknown>;

const NS = iviDescriptor.namespace;

/** The descriptor, pre-resolved per complex type so the hot loop does no lookups. */
interface Child {
  name: string;
  type: string;
  repeated: boolean;
  complex: boolean;
  numeric: boolean;
}
const CHILDREN = new Map<string, Child[]>(
  Object.entries(iviDescriptor.complexTypes).map(([typeName, type]) => [
    typeName,
    type.elements.map((element) => {
      const kind = iviDescriptor.simpleTypes[element.type]?.kind;
      return {
        name: element.name,
        type: element.type,
        repeated: element.maxOccurs !== 1,
        complex: element.type in iviDescriptor.complexTypes,
        numeric: kind === 'decimal' || kind === 'integer',
      };
    }),
  ]),
);

function writeComplex(parent: XMLBuilder, typeName: string, value: Json, path: string): void {
  const children = CHILDREN.get(typeName);
  if (!children) throw new Error(`IVI descriptor has no complex type ${typeName}`);
  let written = 0;
  for (const child of children) {
    const content = value[child.name];
    if (content === undefined) continue;
    written += 1;
    const items = child.repeated ? (content as unknown[]) : [content];
    items.forEach((item, index) => {
      const node = parent.ele(NS, child.name);
      if (child.complex) writeComplex(node, child.type, item as Json, `${path}/${child.name}${child.repeated ? `[${index + 1}]` : ''}`);
      else node.txt(child.numeric ? decimalText(item as number) : String(item));
    });
  }
  // Never drop data silently: a key the schema does not know is an error, not an omission.
  let present = 0;
  for (const key in value) if (value[key] !== undefined) present += 1;
  if (written !== present) {
    const unknown = Object.keys(value).find((key) => !children.some((child) => child.name === key));
    throw new Error(`${path}/${unknown ?? '?'}: not an element of the IVI 2.0 schema here`);
  }
}

/** Serialises a model as it is; `writeIvi` is the checked entry point. */
export function serializeIvi(message: IviMessage): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele(NS, iviDescriptor.rootElement);
  const parts: Json = { Header: message.header, CocDataGroup: message.cocDataGroup };
  for (const child of iviDescriptor.rootChildren) writeComplex(root.ele(NS, child.name), child.type, parts[child.name] as Json, child.name);
  return root.end({ prettyPrint: false });
}

function modelError(message: unknown): IviModelError | undefined {
  const parsed = iviMessageSchema.safeParse(message);
  if (parsed.success) return undefined;
  return new IviModelError(parsed.error.issues.map((issue) => ({ path: fieldPath(issue.path) || '(message)', message: issue.message })));
}

/**
 * Writes the XML and validates it against the XSD (with the signature optional); throws
 * IviModelError (field paths, from the zod model) or IviSchemaViolation. The XSD is the
 * authority, so the zod model is consulted only to explain a failure: that keeps generation
 * fast without accepting anything the schema would not.
 */
export function writeIvi(message: IviMessage): string {
  let xml: string;
  try {
    xml = serializeIvi(message);
  } catch (error) {
    throw modelError(message) ?? error;
  }
  const validation = validateUnsignedIviXml(xml);
  if (!validation.valid) throw modelError(message) ?? new IviSchemaViolation(validation.errors);
  return xml;
}
