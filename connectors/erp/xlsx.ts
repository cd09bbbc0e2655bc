import type { ColumnMapping, ErpMapping } from '../../schemas/erp/mapping.ts';
import { isoDateOfCell, loadWorkbook, sheetRows, SpreadsheetError, type SheetValue } from '../../platform/xlsx.ts';
import { ErpFileError } from './errors.ts';
import { requireColumns, type SourceRow } from './rows.ts';

/**
 * XLSX rows: the first sheet, its first non-blank row the header (column names as in CSV), blank
 * rows skipped, `row` the sheet's row number. A zip cannot be read as a stream, so the bytes are
 * collected first, bounded by `limits.maxFileBytes`; the zip is then checked (platform/xlsx.ts)
 * before exceljs parses it. Not a workbook, a zip bomb, formulas, error values and merged cells
 * are file errors. Cells become the text a CSV export would hold, so one mapping serves both:
 * numbers with the mapping's decimal separator, date cells in the column's `dateFormat`.
 */
export async function* xlsxRows(input: AsyncIterable<Uint8Array | string>, mapping: ErpMapping): AsyncGenerator<SourceRow> {
  const sheet = await firstSheet(await collect(input, mapping.limits.maxFileBytes));
  let rows;
  try {
    rows = sheet ? sheetRows(sheet) : [];
  } catch (error) {
    throw fileError(error);
  }
  const [header, ...data] = rows;
  if (!header) throw new ErpFileError('file is empty: the first sheet has no header row', 'empty_file');
  const names = new Map(header.cells.map((cell) => [cell.column, String(cell.value).trim()]));
  requireColumns([...names.values()], mapping, header.row);
  const columns = new Map(mapping.columns.map((column) => [column.column, column]));
  for (const { row, cells } of data) {
    const unnamed = cells.find((cell) => !names.has(cell.column));
    if (unnamed) {
      yield { row, errors: [{ column: unnamed.column, value: cellText(unnamed.value, mapping), rule: 'column_count', message: `cell ${unnamed.address} has a value but its column has no header` }] };
      continue;
    }
    const texts = cells.map((cell) => [names.get(cell.column)!, cellText(cell.value, mapping, columns.get(names.get(cell.column)!))] as const);
    if (texts.reduce((total, [, text]) => total + text.length, 0) > mapping.limits.maxRowBytes) {
      yield { row, errors: [{ column: '*', value: '', rule: 'row_too_large', message: `row exceeds the limit of ${mapping.limits.maxRowBytes} bytes` }] };
      continue;
    }
    yield { row, cells: Object.fromEntries(texts) };
  }
}

async function collect(input: AsyncIterable<Uint8Array | string>, maxFileBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    bytes += chunk.byteLength;
    if (bytes > maxFileBytes) throw new ErpFileError(`file exceeds the limit of ${maxFileBytes} bytes`, 'file_too_large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function firstSheet(bytes: Uint8Array) {
  try {
    return (await loadWorkbook(bytes)).worksheets[0];
  } catch (error) {
    throw fileError(error);
  }
}

function fileError(error: unknown): unknown {
  if (!(error instanceof SpreadsheetError)) return error;
  const row = error.cell ? Number(/\d+/.exec(error.cell)?.[0]) : undefined;
  return new ErpFileError(error.message, error.reason === 'too_large' ? 'file_too_large' : error.reason, row);
}

function cellText(value: SheetValue, mapping: ErpMapping, column?: ColumnMapping): string {
  if (typeof value === 'number') return mapping.decimalSeparator === ',' ? String(value).replace('.', ',') : String(value);
  if (!(value instanceof Date)) return String(value);
  const iso = isoDateOfCell(value);
  // A date-time stays ISO 8601 and fails the column's date format with its value quoted.
  if (iso === undefined) return value.toISOString();
  const [year, month, day] = iso.split('-') as [string, string, string];
  return (column?.dateFormat ?? 'YYYY-MM-DD').replace('YYYY', year).replace('MM', month).replace('DD', day);
}
