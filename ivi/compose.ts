import { z } from 'zod';
import { parseIviFieldPath, type IviPathSegment } from '../schemas/ivi/field-paths.ts';
import type { CocDataGroupValues } from '../schemas/ivi/index.ts';

/**
 * A certificate's data: the approved variant/version values, overlaid by the vehicle's own
 * values (ERP, API, VECTO, in the order given), then by manual corrections. Every leaf value
 * remembers which of these supplied it. Objects merge field by field; a table's group list is
 * replaced as a whole (a vehicle with other tyres has another tyre table, not a mix).
 */

export const valueSourceSchema = z.enum(['type_approval', 'erp', 'api', 'vecto', 'correction']);
export type ValueSource = z.infer<typeof valueSourceSchema>;

export interface Provenance {
  source: ValueSource;
  by?: string;
  at?: string;
  /** For `type_approval`: the revision of the master data the value comes from. */
  revisionId?: string;
}

export interface VehicleValues {
  source: 'erp' | 'api' | 'vecto';
  values: CocDataGroupValues;
  by?: string;
  at?: string;
}

export const correctionSchema = z.object({
  /** Field path below CocDataGroup, e.g. `MassGroup/ActualMass` or `AxleTable/AxleGroup[2]/AxleNumber`. */
  path: z.string().min(1),
  /** The new value; `null` removes the field (a table row is removed by correcting the whole table). */
  value: z.unknown(),
  by: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  reason: z.string().optional(),
  /** Where the value came from when it is not a person's own: `vecto` for confirmed VECTO proposals. */
  source: z.enum(['correction', 'vecto']).optional(),
});
export type Correction = z.infer<typeof correctionSchema>;

export interface ComposeInput {
  typeApprovalValues: CocDataGroupValues;
  /** The master-data revision the approved values come from, credited in their provenance. */
  typeApprovalRevisionId?: string | undefined;
  vehicleValues: VehicleValues | readonly VehicleValues[];
  corrections?: readonly Correction[];
}

export interface ComposedCertificateData {
  values: CocDataGroupValues;
  /** Keyed by field path (`CocDataGroup/MassGroup/ActualMass`), one entry per leaf value. */
  provenance: Record<string, Provenance>;
}

export class CompositionError extends Error {
  override name = 'CompositionError';
}

type Json = Record<string, unknown>;
const ROOT = 'CocDataGroup';

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function forget(provenance: Record<string, Provenance>, path: string): void {
  for (const key of Object.keys(provenance)) {
    if (key === path || key.startsWith(`${path}/`) || key.startsWith(`${path}[`)) delete provenance[key];
  }
}

function record(value: unknown, path: string, origin: Provenance, provenance: Record<string, Provenance>): void {
  if (Array.isArray(value) && value.length > 0) value.forEach((item, index) => record(item, `${path}[${index + 1}]`, origin, provenance));
  else if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) if (item !== undefined) record(item, `${path}/${key}`, origin, provenance);
  } else provenance[path] = origin;
}

function overlay(target: Json, layer: Json, path: string, origin: Provenance, provenance: Record<string, Provenance>): void {
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const current = target[key];
    const childPath = `${path}/${key}`;
    if (isObject(value) && isObject(current)) {
      overlay(current, value, childPath, origin, provenance);
      continue;
    }
    forget(provenance, childPath);
    target[key] = structuredClone(value);
    record(value, childPath, origin, provenance);
  }
}

type Segment = IviPathSegment;

/** Parses and checks a correction path against the IVI descriptor (schemas/ivi/field-paths.ts, as the API does). */
function correctionSegments(path: string): Segment[] {
  const parsed = parseIviFieldPath(path);
  if ('problem' in parsed) throw new CompositionError(`correction path ${path}: ${parsed.problem}`);
  return parsed.segments;
}

function applyCorrection(values: Json, correction: Correction, provenance: Record<string, Provenance>): void {
  const segments = correctionSegments(correction.path);
  const path = [ROOT, ...segments].reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment + 1}]` : text ? `${text}/${segment}` : segment), '');
  let container: Json | unknown[] = values;
  for (let index = 0; index < segments.length - 1; index += 1) {
    const segment = segments[index] as Segment;
    const next = segments[index + 1];
    const holder = container as Record<Segment, unknown>;
    if (holder[segment] === undefined) {
      if (correction.value === null) return;
      if (typeof segment === 'number') throw new CompositionError(`correction path ${correction.path}: there is no entry ${segment + 1} to correct`);
      holder[segment] = typeof next === 'number' ? [] : {};
    }
    container = holder[segment] as Json | unknown[];
  }
  const last = segments[segments.length - 1] as Segment;
  forget(provenance, path);
  if (Array.isArray(container)) {
    if (typeof last !== 'number' || last > container.length) throw new CompositionError(`correction path ${correction.path}: index out of range`);
    // Removing a row would shift the rows after it; correct the whole table instead.
    if (correction.value === null) throw new CompositionError(`correction path ${correction.path}: correct the whole table to remove a row`);
    container[last] = structuredClone(correction.value);
  } else if (correction.value === null) delete container[last as string];
  else container[last as string] = structuredClone(correction.value);
  if (correction.value !== null) record(correction.value, path, { source: correction.source ?? 'correction', by: correction.by, at: correction.at }, provenance);
}

/** Pure: inputs are not modified. Throws CompositionError for a correction path the schema does not have. */
export function composeCertificateData(input: ComposeInput): ComposedCertificateData {
  const values: Json = {};
  const provenance: Record<string, Provenance> = {};
  const approved: Provenance = { source: 'type_approval', ...(input.typeApprovalRevisionId ? { revisionId: input.typeApprovalRevisionId } : {}) };
  overlay(values, input.typeApprovalValues as Json, ROOT, approved, provenance);
  const layers = Array.isArray(input.vehicleValues) ? input.vehicleValues : [input.vehicleValues as VehicleValues];
  for (const layer of layers) {
    const origin: Provenance = { source: layer.source, ...(layer.by ? { by: layer.by } : {}), ...(layer.at ? { at: layer.at } : {}) };
    overlay(values, layer.values as Json, ROOT, origin, provenance);
  }
  for (const correction of input.corrections ?? []) applyCorrection(values, correctionSchema.parse(correction), provenance);
  return { values: values as CocDataGroupValues, provenance };
}
