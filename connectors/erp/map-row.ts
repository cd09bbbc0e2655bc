import { UNIT_FACTORS, unitDimension, type ColumnMapping, type ErpMapping } from '../../schemas/erp/mapping.ts';
import type { ErpCellError } from '../../schemas/erp/report.ts';
import { textProblem } from '../../schemas/text-rule.ts';
import { vehicleRecordSchema, type VehicleRecord } from '../../schemas/vehicle-record.ts';

export type MappedRow = { record: VehicleRecord } | { errors: ErpCellError[]; vin?: string };

const TRUE = new Set(['y', 'yes', 'true', '1', 'j', 'ja']);
const FALSE = new Set(['n', 'no', 'false', '0', 'nein']);

/**
 * One source row through the mapping and the vehicle-record schema; every problem names its
 * column. Each mapped cell is first held to the text rule (no NUL, no unpaired surrogate: JSON
 * escapes and NUL bytes can bring both), then the record's own limits apply.
 */
export function mapRow(cells: Record<string, string>, mapping: ErpMapping): MappedRow {
  const errors: ErpCellError[] = [];
  const target: Record<string, unknown> = { manufacturerId: mapping.manufacturerId };
  for (const [path, value] of Object.entries(mapping.defaults)) setPath(target, path, value);
  for (const column of mapping.columns) {
    const raw = cells[column.column];
    const value = raw?.trim() ?? '';
    if (value === '') {
      if (column.required) errors.push({ column: column.column, value: raw ?? '', rule: 'required', message: `${column.column} is required` });
      continue;
    }
    const problem = textProblem(value, mapping.limits.maxRowBytes);
    if (problem !== undefined) {
      errors.push({ column: column.column, value, rule: 'text', message: `${column.column} ${problem}` });
      continue;
    }
    const converted = convert(value, column, mapping);
    if ('error' in converted) errors.push({ column: column.column, value, ...converted.error });
    else setPath(target, column.target, converted.value);
  }
  const vin = typeof target.vin === 'string' ? target.vin : undefined;
  if (errors.length > 0) return { errors, ...(vin ? { vin } : {}) };

  const parsed = vehicleRecordSchema.safeParse(target);
  if (parsed.success) return { record: parsed.data };
  return {
    errors: parsed.error.issues.map((issue) => {
      const path = issue.path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
      const column = mapping.columns.find((c) => c.target === path || path.startsWith(`${c.target}.`) || path.startsWith(`${c.target}[`));
      return {
        column: column?.column ?? path,
        value: column ? (cells[column.column]?.trim() ?? '') : '',
        rule: `vehicle_record.${issue.code}`,
        message: `${path}: ${issue.message}`,
      };
    }),
    ...(vin ? { vin } : {}),
  };
}

type Conversion = { value: string | number } | { error: { rule: string; message: string } };

function convert(input: string, column: ColumnMapping, mapping: ErpMapping): Conversion {
  let value = input;
  if (column.codes) {
    const code = column.codes[value];
    if (code === undefined) return { error: { rule: 'code', message: `"${value}" is not one of ${Object.keys(column.codes).join(', ')}` } };
    value = code;
  }
  switch (column.type) {
    case 'string':
      return { value };
    case 'integer':
    case 'decimal': {
      const normalised = mapping.decimalSeparator === ',' ? value.replace(/\./g, '').replace(',', '.') : value;
      if (!/^-?\d+(\.\d+)?$/.test(normalised)) return { error: { rule: 'number', message: `"${value}" is not a number (decimal separator "${mapping.decimalSeparator}")` } };
      let number = Number(normalised);
      if (column.unit) {
        const dimension = unitDimension(column.unit.from)!;
        const factors = UNIT_FACTORS[dimension] as Record<string, number>;
        // toPrecision removes binary noise such as 1.2 * 1000 = 1199.9999999999998.
        number = Number(((number * factors[column.unit.from]!) / factors[column.unit.to]!).toPrecision(12));
      }
      if (column.type === 'integer' && !Number.isInteger(number)) {
        return { error: { rule: 'integer', message: `"${value}"${column.unit ? ` (${number} ${column.unit.to})` : ''} is not a whole number` } };
      }
      return { value: number };
    }
    case 'date':
      return parseDate(value, column.dateFormat!);
    case 'indicator': {
      const lower = value.toLowerCase();
      if (TRUE.has(lower)) return { value: 'Y' };
      if (FALSE.has(lower)) return { value: 'N' };
      return { error: { rule: 'indicator', message: `"${value}" is neither yes nor no (Y/N, yes/no, true/false, 1/0)` } };
    }
  }
}

const DATE_PATTERNS: Record<string, RegExp> = {
  'YYYY-MM-DD': /^(?<y>\d{4})-(?<m>\d{2})-(?<d>\d{2})$/,
  'DD.MM.YYYY': /^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})$/,
  'DD/MM/YYYY': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})$/,
  'MM/DD/YYYY': /^(?<m>\d{1,2})\/(?<d>\d{1,2})\/(?<y>\d{4})$/,
  YYYYMMDD: /^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})$/,
};

function parseDate(value: string, format: string): Conversion {
  const groups = DATE_PATTERNS[format]!.exec(value)?.groups;
  if (!groups) return { error: { rule: 'date_format', message: `"${value}" does not match the date format ${format}` } };
  const [y, m, d] = [Number(groups.y), Number(groups.m), Number(groups.d)];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return { error: { rule: 'date', message: `"${value}" is not a calendar date` } };
  }
  return { value: `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}` };
}

/** Sets `values.A.B[0].C` style paths, creating objects and arrays on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.').flatMap((part) => {
    const match = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?$/.exec(part)!;
    return match[2] === undefined ? [match[1]!] : [match[1]!, Number(match[2])];
  });
  let node: Record<string | number, unknown> = target;
  parts.forEach((part, index) => {
    if (index === parts.length - 1) {
      node[part] = value;
      return;
    }
    const next = parts[index + 1];
    node[part] ??= typeof next === 'number' ? [] : {};
    node = node[part] as Record<string | number, unknown>;
  });
}
