import { randomUUID } from 'node:crypto';
import { iviDescriptor } from '../../../schemas/ivi/index.ts';
import type { IviMessage, IviSimpleType } from '../../../schemas/ivi/index.ts';

/**
 * Messages built from the descriptor alone, to exercise every group and table of the XSD, not
 * only those the specimens happen to contain. `full` fills every optional element and repeats
 * every group; `minimal` gives only what the XSD requires. Values sit at the facet limits.
 */

/** Samples for the XSD's patterns; a new pattern in a future XSD fails here loudly. */
const PATTERN_SAMPLES: Record<string, () => string> = {
  '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}': () => randomUUID(),
  '[A-Z0-9]+': () => 'WDB96340310ZZ9999',
};

function sampleValue(type: IviSimpleType, variant: number): unknown {
  if (type.enumeration) return type.enumeration[variant % type.enumeration.length];
  switch (type.kind) {
    case 'string': {
      if (type.pattern !== undefined) {
        const sample = PATTERN_SAMPLES[type.pattern];
        if (!sample) throw new Error(`no sample for pattern ${type.pattern}`);
        return sample();
      }
      // Longest allowed text with characters that need escaping, then the shortest.
      const length = variant % 2 === 0 ? (type.maxLength ?? 20) : (type.minLength ?? 1);
      return 'Ä&<>"\'x'.repeat(Math.ceil(length / 7)).slice(0, length);
    }
    case 'integer':
      return variant % 2 === 0 ? (type.maxInclusive ?? 1) : (type.minInclusive ?? 0);
    case 'decimal':
      // The maximum has the most digits the facets allow (e.g. 9999.999999).
      return variant % 2 === 0 ? (type.maxInclusive ?? 1.5) : (type.minInclusive ?? 0);
    case 'date':
      return variant % 2 === 0 ? '2024-02-29' : '2025-12-31+01:00';
    case 'dateTime':
      return variant % 2 === 0 ? '2026-07-05T08:15:30.125+02:00' : '2026-07-05T06:15:30Z';
  }
}

export interface SyntheticOptions {
  full: boolean;
  /** Shifts enumeration choices and limits so several messages cover more code-list values. */
  variant?: number;
}

function buildComplex(typeName: string, options: SyntheticOptions, seen: Set<string>): Record<string, unknown> {
  const type = iviDescriptor.complexTypes[typeName];
  if (!type) throw new Error(`unknown complex type ${typeName}`);
  seen.add(typeName);
  const value: Record<string, unknown> = {};
  type.elements.forEach((element, index) => {
    if (element.maxOccurs === 1 && element.minOccurs === 0 && !options.full) return;
    const variant = (options.variant ?? 0) + index;
    const build = (offset: number) => {
      const simple = iviDescriptor.simpleTypes[element.type];
      return simple ? sampleValue(simple, variant + offset) : buildComplex(element.type, options, seen);
    };
    if (element.maxOccurs === 1) value[element.name] = build(0);
    else {
      const count = Math.max(element.minOccurs, options.full ? 2 : 0);
      value[element.name] = Array.from({ length: count }, (_, offset) => build(offset));
    }
  });
  return value;
}

export function syntheticMessage(options: SyntheticOptions): { message: IviMessage; typesUsed: Set<string> } {
  const typesUsed = new Set<string>();
  const header = buildComplex('Header', options, typesUsed);
  const cocDataGroup = buildComplex('CocDataGroup', options, typesUsed);
  return { message: { header, cocDataGroup } as IviMessage, typesUsed };
}
