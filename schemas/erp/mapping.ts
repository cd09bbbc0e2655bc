import { z } from 'zod';
import { id, text } from '../text.ts';

/**
 * How one manufacturer's ERP export becomes vehicle records (`schemas/vehicle-record.ts`).
 * Stored per manufacturer as JSON; validated here so a wrong mapping fails before any file.
 */

/** Units an ERP column may be in, converted to what the IVI field expects. */
export const UNIT_FACTORS = {
  mass: { g: 0.001, kg: 1, t: 1000 },
  length: { mm: 1, cm: 10, m: 1000 },
  volume: { cm3: 1, l: 1000, m3: 1_000_000 },
  power: { W: 0.001, kW: 1 },
} as const;

const unitNames = Object.values(UNIT_FACTORS).flatMap((units) => Object.keys(units)) as [string, ...string[]];
export const unitSchema = z.enum(unitNames);
export type Unit = z.infer<typeof unitSchema>;

export function unitDimension(unit: string): keyof typeof UNIT_FACTORS | undefined {
  return (Object.keys(UNIT_FACTORS) as (keyof typeof UNIT_FACTORS)[]).find((dimension) => unit in UNIT_FACTORS[dimension]);
}

/**
 * A target in the vehicle record: a top-level field, or `values.` + an IVI element path with
 * array indices, e.g. `values.MassGroup.TechnicallyPermissibleMaximumLadenMass` or
 * `values.EnergyConvertorTable.EnergyConvertorGroup[0].EnergySourceTable.EnergySourceGroup[0].EnergySource`.
 */
export const targetPathSchema = text({ max: 300 }).regex(
  /^(manufacturerId|vin|stage|typeApprovalNumber|variant|version|destination|intendedCountryRegistration|values(\.[A-Za-z][A-Za-z0-9]*(\[\d{1,3}\])?)+)$/,
  'expected a vehicle-record field (vin, stage, typeApprovalNumber, variant, version, destination, intendedCountryRegistration) or values.<IVI path>',
);

/** Date layouts seen in ERP exports; output is always xs:date (YYYY-MM-DD). */
export const dateFormatSchema = z.enum(['YYYY-MM-DD', 'DD.MM.YYYY', 'DD/MM/YYYY', 'MM/DD/YYYY', 'YYYYMMDD']);

export const columnMappingSchema = z
  .object({
    /** Header name in CSV, key in JSON (nested objects as dotted keys). */
    column: text({ min: 1, max: 200 }),
    target: targetPathSchema,
    type: z.enum(['string', 'integer', 'decimal', 'date', 'indicator']).default('string'),
    /** Numbers: the column's unit and the unit the IVI field wants. */
    unit: z.object({ from: unitSchema, to: unitSchema }).optional(),
    dateFormat: dateFormatSchema.optional(),
    /** Code translation applied before type conversion (e.g. {"Diesel": "20"}). */
    codes: z.record(text({ max: 200 }), text({ max: 200 })).optional(),
    required: z.boolean().default(false),
  })
  .superRefine((column, context) => {
    if (column.unit) {
      if (column.type !== 'integer' && column.type !== 'decimal') context.addIssue({ code: 'custom', path: ['unit'], message: 'units apply to integer or decimal columns' });
      if (unitDimension(column.unit.from) !== unitDimension(column.unit.to)) {
        context.addIssue({ code: 'custom', path: ['unit'], message: `cannot convert ${column.unit.from} to ${column.unit.to}` });
      }
    }
    if (column.type === 'date' && !column.dateFormat) context.addIssue({ code: 'custom', path: ['dateFormat'], message: 'date columns need a dateFormat' });
  });

export const erpMappingSchema = z
  .object({
    manufacturerId: id(),
    csv: z
      .object({
        delimiter: text({ min: 1, max: 1 }).default(','),
        encoding: z.enum(['utf-8', 'windows-1252', 'iso-8859-1']).default('utf-8'),
      })
      .prefault({}),
    /** Decimal separator of number cells ("1.234,5" style needs ","). */
    decimalSeparator: z.enum(['.', ',']).default('.'),
    limits: z
      .object({
        maxFileBytes: z.number().int().positive().default(200 * 1024 * 1024),
        maxRowBytes: z.number().int().positive().default(64 * 1024),
      })
      .prefault({}),
    columns: z.array(columnMappingSchema).min(1).max(1_000),
    /** Values set on every record unless a column provides them (e.g. {"stage": 1}). */
    defaults: z.record(targetPathSchema, z.union([text({ max: 2_000 }), z.number()])).default({}),
  })
  .superRefine((mapping, context) => {
    const seen = new Map<string, number>();
    mapping.columns.forEach((column, index) => {
      const earlier = seen.get(column.target);
      if (earlier !== undefined) context.addIssue({ code: 'custom', path: ['columns', index, 'target'], message: `${column.target} is already filled by columns[${earlier}]` });
      seen.set(column.target, index);
    });
  });

export type ColumnMapping = z.infer<typeof columnMappingSchema>;
export type ErpMapping = z.infer<typeof erpMappingSchema>;
export type ErpMappingInput = z.input<typeof erpMappingSchema>;
