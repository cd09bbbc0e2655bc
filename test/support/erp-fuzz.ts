import ExcelJS from 'exceljs';
import type { ErpFormat, ErpRowResult } from '../../connectors/erp/parse.ts';
import { erpMappingSchema, type ErpMapping } from '../../schemas/erp/mapping.ts';
import { acmeMapping } from '../inbox/support.ts';
import type { Fuzz } from './fuzz.ts';

/**
 * Generated ERP rows for the fuzz tests: good rows mixed with hostile cells and format-level
 * damage, each with the column a reader must blame, written as CSV, JSON or XLSX.
 */

/** The inbox tests' mapping: the fuzz reads what they read. */
export const FUZZ_MAPPING: ErpMapping = erpMappingSchema.parse(acmeMapping);
const COLUMNS = FUZZ_MAPPING.columns.map((column) => column.column);
type Cells = Record<string, string>;

/** What a spreadsheet would run; as data they are legal variant names (the export escapes them). */
const FORMULAS = ["=cmd|' /C calc'!A0", '+SUM(A1:A9)', '-2+3', '@import', '=HYPERLINK("x")', '\t=1+1', '\r=1+1'];
const GOOD_TEXT = ['A1', 'Grün', 'x;y', 'say "hi"', 'line\nbreak', '  padded  ', '🚚 4x2', 'a\u200Bb', '""', "'quoted'", ...FORMULAS];
const HOMOGLYPHS: Record<string, string[]> = { A: ['А', 'Α'], B: ['В', 'Β'], E: ['Е', 'Ε'], H: ['Н', 'Η'], K: ['К', 'Κ'], M: ['М', 'Μ'], P: ['Р', 'Ρ'], T: ['Т', 'Τ'], X: ['Х', 'Χ'], Z: ['Ζ'], C: ['С'], N: ['Ν'] };
const ZERO_WIDTH = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD'];

export interface FuzzRow {
  kind: string;
  cells: Cells;
  /** Undefined for a good row; otherwise the columns one of which the reader must name ('*' = the row as a whole). */
  blame?: string[];
  /** Replaces the CSV line / JSON element as written (row-level damage). */
  raw?: string;
}

const vinOf = (index: number) => `WVWFZ${String(index).padStart(12, '0')}`;

function goodCells(fuzz: Fuzz, index: number): Cells {
  return {
    VIN: vinOf(index),
    Approval: 'e1*2018/858*00123*01',
    Variant: fuzz.chance(0.3) ? fuzz.pick(GOOD_TEXT) : `V${fuzz.int(100)}`,
    Version: fuzz.chance(0.2) ? fuzz.pick(GOOD_TEXT) : 'A',
    Destination: fuzz.chance(0.5) ? 'nap-de' : '',
    'Actual mass (kg)': String(1000 + fuzz.int(40_000)),
    Built: `${String(1 + fuzz.int(28)).padStart(2, '0')}.${String(1 + fuzz.int(12)).padStart(2, '0')}.20${10 + fuzz.int(15)}`,
  };
}

function insertAt(fuzz: Fuzz, text: string, insert: string): string {
  const at = 1 + fuzz.int(text.length - 1);
  return text.slice(0, at) + insert + text.slice(at);
}

/** Cell-level damage; `format` leaves out what it cannot carry (XLSX's XML drops control characters and NUL, CSV bytes hold no lone surrogates). */
function brokenRow(fuzz: Fuzz, index: number, format: ErpFormat): FuzzRow {
  const cells = goodCells(fuzz, index);
  const kinds = ['homoglyph', 'zero-width', 'control', 'fullwidth', 'nul', 'surrogate', 'missing', 'mass', 'date', 'long', 'huge', 'formula-vin', 'short-vin'].filter(
    (kind) => !(format === 'xlsx' && ['nul', 'surrogate', 'control'].includes(kind)) && !(format === 'csv' && kind === 'surrogate'),
  );
  const kind = fuzz.chance(0.002) ? 'huge' : fuzz.pick(kinds.filter((k) => k !== 'huge'));
  switch (kind) {
    case 'homoglyph': {
      const positions = [...cells.VIN!].flatMap((char, at) => (HOMOGLYPHS[char] ? [at] : []));
      const at = fuzz.pick(positions);
      cells.VIN = cells.VIN!.slice(0, at) + fuzz.pick(HOMOGLYPHS[cells.VIN![at]!]!) + cells.VIN!.slice(at + 1);
      return { kind, cells, blame: ['VIN'] };
    }
    case 'zero-width':
      cells.VIN = insertAt(fuzz, cells.VIN!, fuzz.pick(ZERO_WIDTH));
      return { kind, cells, blame: ['VIN'] };
    case 'control': {
      cells.VIN = insertAt(fuzz, cells.VIN!, fuzz.pick(['\u0001', '\u0007', '\u0008', '\u000B', '\u000C', '\u001B', '\u001F', '\u007F']));
      return { kind, cells, blame: ['VIN'] };
    }
    case 'fullwidth':
      cells.VIN = [...cells.VIN!].map((char) => String.fromCodePoint(char.codePointAt(0)! + 0xfee0)).join('');
      return { kind, cells, blame: ['VIN'] };
    case 'nul':
      cells.Variant = insertAt(fuzz, 'AB', '\u0000');
      return { kind, cells, blame: ['Variant'] };
    case 'surrogate':
      cells.Version = fuzz.pick(['\uD800', 'A\uDC00', '\uDBFFx']);
      return { kind, cells, blame: ['Version'] };
    case 'missing':
      cells.VIN = fuzz.pick(['', '   ']);
      return { kind, cells, blame: ['VIN'] };
    case 'mass':
      cells['Actual mass (kg)'] = fuzz.pick(['zwölf', '1e3', '12,5', '0x10', '=1+1', '١٢٣']);
      return { kind, cells, blame: ['Actual mass (kg)'] };
    case 'date':
      cells.Built = fuzz.pick(['31.02.2024', '2024-01-01', '00.00.0000', '1.13.2024', '=TODAY()']);
      return { kind, cells, blame: ['Built'] };
    case 'long':
      cells.Variant = 'V'.repeat(26 + fuzz.int(2_000));
      return { kind, cells, blame: ['Variant'] };
    case 'huge':
      cells.Variant = 'H'.repeat(1024 * 1024);
      return { kind, cells, blame: ['*', 'Variant'] };
    case 'formula-vin':
      cells.VIN = fuzz.pick(FORMULAS);
      return { kind, cells, blame: ['VIN'] };
    default:
      cells.VIN = cells.VIN!.slice(0, 16);
      return { kind, cells, blame: ['VIN'] };
  }
}

const csvField = (value: string) => (/[;"\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const csvLine = (cells: Cells) => COLUMNS.map((column) => csvField(cells[column] ?? '')).join(';');

/** Damage only one format can carry: quoting in CSV, syntax in JSON, a cell outside the header in XLSX. */
function formatRow(fuzz: Fuzz, index: number, format: ErpFormat): FuzzRow {
  const cells = goodCells(fuzz, index);
  if (format === 'csv') {
    const kind = fuzz.pick(['stray-quote', 'bad-closing-quote', 'column-count', 'doubled-quotes']);
    const fields = COLUMNS.map((column) => csvField(cells[column]!));
    if (kind === 'doubled-quotes') {
      // Correctly doubled quotes inside a quoted field are data.
      cells.Variant = 'x "y" z';
      return { kind, cells };
    }
    if (kind === 'stray-quote') fields[2] = '12" wheel';
    if (kind === 'bad-closing-quote') fields[2] = '"12" wheel"';
    if (kind === 'column-count') fields.splice(3, 2);
    return { kind, cells, blame: ['*'], raw: fields.join(';') };
  }
  if (format === 'json' || format === 'ndjson') {
    const kind = fuzz.pick(['trailing-comma', 'not-an-object', 'bare-word', 'number-vin']);
    // A VIN of digits without quotes: JSON.parse would round it to another valid VIN.
    if (kind === 'number-vin') return { kind, cells, blame: ['VIN'], raw: JSON.stringify({ ...cells, VIN: 0 }).replace('"VIN":0', '"VIN":12345678901234567') };
    const raw = kind === 'trailing-comma' ? `${JSON.stringify(cells).slice(0, -1)},}` : kind === 'not-an-object' ? JSON.stringify(Object.values(cells)) : '{"VIN": WVW}';
    return { kind, cells, blame: ['*'], raw };
  }
  return { kind: 'cell-outside-header', cells: { ...cells, '': 'stray' }, blame: [String.fromCharCode(65 + COLUMNS.length)] };
}

export function generateRows(fuzz: Fuzz, count: number, format: ErpFormat, offset = 0): FuzzRow[] {
  return Array.from({ length: count }, (_, i) => {
    const index = offset + i;
    const roll = fuzz.next();
    if (roll < 0.55) return { kind: 'good', cells: goodCells(fuzz, index) };
    if (roll < 0.9) return brokenRow(fuzz, index, format);
    return formatRow(fuzz, index, format);
  });
}

/** The file's bytes and the row number each generated row must come back under. */
export async function writeRows(rows: FuzzRow[], format: ErpFormat): Promise<{ bytes: Buffer; numbers: number[] }> {
  if (format === 'csv') {
    // A BOM first: spreadsheets write one and the reader must not take it into the first column name.
    const lines = [`\uFEFF${COLUMNS.join(';')}`];
    const numbers: number[] = [];
    let line = 2;
    for (const row of rows) {
      const text = row.raw ?? csvLine(row.cells);
      numbers.push(line);
      line += text.split('\n').length;
      lines.push(text);
    }
    return { bytes: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'), numbers };
  }
  if (format === 'json') {
    const elements = rows.map((row) => row.raw ?? JSON.stringify(row.cells));
    return { bytes: Buffer.from(`\uFEFF[\n${elements.join(',\n')}\n]\n`, 'utf8'), numbers: rows.map((_, i) => i + 1) };
  }
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('ERP');
  sheet.addRow(COLUMNS);
  for (const row of rows) sheet.addRow([...COLUMNS.map((column) => row.cells[column] ?? ''), ...('' in row.cells ? [row.cells['']] : [])]);
  return { bytes: Buffer.from(await book.xlsx.writeBuffer()), numbers: rows.map((_, i) => i + 2) };
}

/** Differences between what each generated row should give and what the reader gave. */
export function judge(rows: FuzzRow[], numbers: number[], results: ErpRowResult[]): string[] {
  const problems: string[] = [];
  const byRow = new Map<number, ErpRowResult[]>();
  for (const result of results) byRow.set(result.row, [...(byRow.get(result.row) ?? []), result]);
  const expected = new Set(numbers);
  for (const row of byRow.keys()) if (!expected.has(row)) problems.push(`row ${row}: a result for a row that was not written`);
  for (const [i, row] of rows.entries()) {
    const number = numbers[i]!;
    const got = byRow.get(number) ?? [];
    const where = `row ${number} (${row.kind})`;
    if (got.length !== 1) {
      problems.push(`${where}: ${got.length} results`);
      continue;
    }
    const result = got[0]!;
    if (row.blame === undefined) {
      if (!('record' in result)) {
        problems.push(`${where}: good row refused: ${JSON.stringify(result.errors).slice(0, 300)}`);
        continue;
      }
      if (result.record.vin !== row.cells.VIN) problems.push(`${where}: VIN ${result.record.vin} instead of ${row.cells.VIN}`);
      if (result.record.variant !== row.cells.Variant!.trim()) problems.push(`${where}: variant ${JSON.stringify(result.record.variant)} instead of ${JSON.stringify(row.cells.Variant!.trim())}`);
      if (result.record.version !== row.cells.Version!.trim()) problems.push(`${where}: version ${JSON.stringify(result.record.version)} instead of ${JSON.stringify(row.cells.Version!.trim())}`);
      continue;
    }
    if (!('errors' in result)) {
      problems.push(`${where}: bad row accepted as ${JSON.stringify(result.record).slice(0, 300)}`);
      continue;
    }
    if (result.errors.length === 0 || result.errors.some((error) => !error.message || !error.rule)) problems.push(`${where}: an error without rule or message`);
    if (!result.errors.some((error) => row.blame!.includes(error.column))) problems.push(`${where}: errors name ${result.errors.map((e) => e.column).join(', ')}, expected one of ${row.blame.join(', ')}`);
  }
  return problems;
}

