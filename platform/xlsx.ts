import ExcelJS from 'exceljs';
import yauzl from 'yauzl';

/**
 * Spreadsheets from outside (type-approval files, ERP exports), opened defensively. An XLSX file
 * is a zip of XML parts; exceljs inflates every part in memory without looking at sizes, so the
 * zip is checked first with yauzl: entry count, declared sizes, and the actual inflated bytes
 * (yauzl stops an entry that inflates beyond what it declares). Only then does exceljs parse it.
 * Formulas are refused (their cached result is whatever the sender's Excel last computed) and so
 * are merged cells (one value meant for several cells is a guess either way).
 */

export interface XlsxLimits {
  /** All parts together, inflated. */
  maxUncompressedBytes: number;
  maxEntries: number;
}

export const DEFAULT_XLSX_LIMITS: XlsxLimits = { maxUncompressedBytes: 256 * 1024 * 1024, maxEntries: 2_000 };

export type SpreadsheetRefusal = 'not_a_spreadsheet' | 'too_large' | 'formula' | 'merged_cells' | 'error_value';

/** The workbook as a whole cannot be read; `sheet` and `cell` (`B7`, or a range `A3:B4`) when one cell is the reason. */
export class SpreadsheetError extends Error {
  override name = 'SpreadsheetError';
  constructor(
    message: string,
    readonly reason: SpreadsheetRefusal,
    readonly sheet?: string,
    readonly cell?: string,
  ) {
    super(message);
  }
}

/** A non-empty cell, normalised: text (rich text and hyperlinks as their text), number, date, boolean. */
export type SheetValue = string | number | Date | boolean;

export interface SheetCell {
  /** `B7`. */
  address: string;
  /** `B`. */
  column: string;
  /** 1-based column number. */
  col: number;
  value: SheetValue;
}

/** A row with at least one non-blank cell; `row` is the sheet's 1-based row number. */
export interface SheetRow {
  row: number;
  cells: SheetCell[];
}

/** Checks the zip, then loads the workbook. Throws SpreadsheetError for anything that is not a readable, bounded XLSX. */
export async function loadWorkbook(bytes: Uint8Array, limits: XlsxLimits = DEFAULT_XLSX_LIMITS): Promise<ExcelJS.Workbook> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names = await checkZip(buffer, limits);
  if (!names.has('[Content_Types].xml') || !names.has('xl/workbook.xml')) {
    throw new SpreadsheetError('the file is a zip archive but not an XLSX workbook (no [Content_Types].xml or xl/workbook.xml)', 'not_a_spreadsheet');
  }
  const workbook = new ExcelJS.Workbook();
  try {
    // exceljs's typings ask for its own Buffer alias; a Node Buffer is what it reads.
    await workbook.xlsx.load(buffer as unknown as ExcelJS.Buffer);
  } catch (error) {
    throw new SpreadsheetError(`the XLSX workbook cannot be read: ${(error as Error).message}`, 'not_a_spreadsheet');
  }
  return workbook;
}

function checkZip(buffer: Buffer, limits: XlsxLimits): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (openError, zip) => {
      if (openError) return reject(new SpreadsheetError(`not an XLSX file (not a zip archive: ${openError.message})`, 'not_a_spreadsheet'));
      const names = new Set<string>();
      let declared = 0;
      let inflated = 0;
      const fail = (error: SpreadsheetError) => {
        zip.close();
        reject(error);
      };
      const tooLarge = (what: string) =>
        new SpreadsheetError(`the XLSX file ${what}, above the limit of ${limits.maxUncompressedBytes} bytes (a zip bomb or far too large)`, 'too_large');
      zip.on('error', (error: Error) => fail(new SpreadsheetError(`the XLSX zip is damaged: ${error.message}`, 'not_a_spreadsheet')));
      zip.on('end', () => resolve(names));
      zip.on('entry', (entry: yauzl.Entry) => {
        names.add(entry.fileName);
        declared += entry.uncompressedSize;
        if (names.size > limits.maxEntries) return fail(new SpreadsheetError(`the XLSX zip has more than ${limits.maxEntries} parts`, 'too_large'));
        if (declared > limits.maxUncompressedBytes) return fail(tooLarge(`declares ${declared} bytes unpacked`));
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return fail(new SpreadsheetError(`the XLSX zip is damaged at ${entry.fileName}: ${streamError.message}`, 'not_a_spreadsheet'));
          stream.on('data', (chunk: Buffer) => {
            inflated += chunk.byteLength;
            if (inflated > limits.maxUncompressedBytes) {
              stream.destroy();
              fail(tooLarge(`unpacks to more than ${inflated} bytes`));
            }
          });
          // yauzl reports a part that inflates beyond its declared size here.
          stream.on('error', (error: Error) => fail(new SpreadsheetError(`the XLSX zip is damaged at ${entry.fileName}: ${error.message}`, 'not_a_spreadsheet')));
          stream.on('end', () => zip.readEntry());
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * The sheet's non-blank rows in order. Throws SpreadsheetError for merged cells (naming the
 * ranges), formulas and error values (naming the first such cell).
 */
export function sheetRows(sheet: ExcelJS.Worksheet): SheetRow[] {
  if (sheet.hasMerges) {
    const ranges = sheet.model.merges;
    throw new SpreadsheetError(`sheet ${sheet.name} has merged cells (${ranges.join(', ')}); unmerge them and fill every cell`, 'merged_cells', sheet.name, ranges[0]);
  }
  const rows: SheetRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    const cells: SheetCell[] = [];
    row.eachCell({ includeEmpty: false }, (cell) => {
      const value = cellValue(cell, sheet.name);
      if (value === undefined || (typeof value === 'string' && value.trim() === '')) return;
      cells.push({ address: cell.address, column: cell.address.replace(/\d+$/, ''), col: Number(cell.col), value });
    });
    if (cells.length > 0) rows.push({ row: row.number, cells });
  });
  return rows;
}

function cellValue(cell: ExcelJS.Cell, sheet: string): SheetValue | undefined {
  const value = cell.value;
  switch (cell.type) {
    case ExcelJS.ValueType.Null:
    case ExcelJS.ValueType.Merge:
      return undefined;
    case ExcelJS.ValueType.Formula:
      throw new SpreadsheetError(`sheet ${sheet} cell ${cell.address} holds a formula (${cell.formula}); enter the value itself`, 'formula', sheet, cell.address);
    case ExcelJS.ValueType.Error:
      throw new SpreadsheetError(`sheet ${sheet} cell ${cell.address} holds an error value (${cell.text})`, 'error_value', sheet, cell.address);
    case ExcelJS.ValueType.RichText:
      return (value as ExcelJS.CellRichTextValue).richText.map((part) => part.text).join('');
    case ExcelJS.ValueType.Hyperlink:
      return cell.text;
    default:
      return value as SheetValue;
  }
}

const MS_PER_DAY = 86_400_000;
/** Serial 0 of the 1900 date system is 1899-12-30 (Excel's phantom 29 February 1900 included). */
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

/**
 * A date cell (exceljs reads it as UTC midnight) or an Excel serial number as xs:date
 * (`YYYY-MM-DD`); undefined when it has a time of day or lies outside years 1900-9999.
 */
export function isoDateOfCell(value: Date | number): string | undefined {
  const time = typeof value === 'number' ? EXCEL_EPOCH + value * MS_PER_DAY : value.getTime();
  if (!Number.isFinite(time) || time % MS_PER_DAY !== 0) return undefined;
  const iso = new Date(time).toISOString();
  return /^(19|[2-9]\d)\d\d-/.test(iso) ? iso.slice(0, 10) : undefined;
}

/** The spreadsheet letter of a 1-based column number: 1 → A, 27 → AA. */
export function columnLetter(column: number): string {
  let letters = '';
  for (let rest = column; rest > 0; rest = Math.floor((rest - 1) / 26)) letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  return letters;
}
