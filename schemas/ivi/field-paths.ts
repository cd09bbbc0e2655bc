import type { ZodType } from 'zod';
import type { IviElement } from './descriptor-types.ts';
import { iviDescriptor } from './generated/descriptor.ts';
import { cocDataGroupValuesSchema } from './generated/model.ts';

/**
 * Field paths below CocDataGroup as corrections name them (`MassGroup/ActualMass`,
 * `AxleTable/AxleGroup[2]/AxleNumber`, 1-based rows, `CocDataGroup/` optional), checked against
 * the IVI descriptor, and the generated model's schema for the value such a path holds.
 */

/** An element name, or a 0-based row index. */
export type IviPathSegment = string | number;

const ROOT = 'CocDataGroup';

/** The path's segments and the element it ends at, or why it names no IVI field. */
export function parseIviFieldPath(path: string): { segments: IviPathSegment[]; element: IviElement } | { problem: string } {
  const parts = path.replace(new RegExp(`^${ROOT}/`), '').split('/');
  const segments: IviPathSegment[] = [];
  let typeName: string | undefined = ROOT;
  let element: IviElement | undefined;
  for (const part of parts) {
    const match = /^([A-Za-z0-9]+)(?:\[(\d{1,6})\])?$/.exec(part);
    element = match && typeName ? iviDescriptor.complexTypes[typeName]?.elements.find((candidate) => candidate.name === match[1]) : undefined;
    if (!match || !element) return { problem: `${part} is not an element of ${typeName ?? 'a simple value'}` };
    const repeated = element.maxOccurs !== 1;
    if (match[2] !== undefined && (!repeated || Number(match[2]) < 1)) return { problem: `${part} cannot be indexed like that` };
    segments.push(element.name);
    if (match[2] !== undefined) segments.push(Number(match[2]) - 1);
    typeName = element.type in iviDescriptor.complexTypes ? element.type : undefined;
  }
  return { segments, element: element! };
}

interface Shaped {
  shape?: Record<string, ZodType>;
  element?: ZodType;
  unwrap?: () => ZodType;
  def?: { type?: string };
}

function unwrapOptional(schema: ZodType): ZodType {
  let current = schema as ZodType & Shaped;
  while (current.def?.type === 'optional' && current.unwrap) current = current.unwrap() as ZodType & Shaped;
  return current;
}

/**
 * The schema of the value at a field path: a simple type's (with its facets and the text rule),
 * or a group's or table's (every level optional, as vehicle values), a list of rows for a
 * repeated element named without an index. `path` is the path as given, for messages.
 */
export function iviFieldSchema(path: string): { path: string; schema: ZodType } | { problem: string } {
  const parsed = parseIviFieldPath(path);
  if ('problem' in parsed) return parsed;
  let schema: ZodType = cocDataGroupValuesSchema;
  for (const segment of parsed.segments) {
    const current = unwrapOptional(schema) as ZodType & Shaped;
    const next = typeof segment === 'number' ? current.element : current.shape?.[segment];
    if (!next) return { problem: `${path} has no schema in the IVI model` };
    schema = next;
  }
  return { path: `${ROOT}/${path.replace(new RegExp(`^${ROOT}/`), '')}`, schema: unwrapOptional(schema) };
}
