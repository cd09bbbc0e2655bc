import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { ErpFileError } from '../../connectors/erp/errors.ts';
import { parseErpFile, type ErpRowResult } from '../../connectors/erp/parse.ts';
import { erpMappingSchema, type ErpMapping } from '../../schemas/erp/mapping.ts';

// The CSV fixture's mapping: decimal comma, dates DD.MM.YYYY, codes; the XLSX needs no other.
const mapping = erpMappingSchema.parse(JSON.parse(readFileSync(new URL('../fixtures/erp/mapping-csv.json', import.meta.url), 'utf8')));
const HEADER = ['Fahrgestellnummer', 'Typgenehmigung', 'Variante', 'Version', 'Ziel', 'Zul. Gesamtmasse (t)', 'Laenge (m)', 'Achsen', 'Kraftstoff', 'Genehmigt am'];
const row = (vin: string, overrides: Record<number, ExcelJS.CellValue> = {}): ExcelJS.CellValue[] =>
  Object.assign(['WMA06XZZ1NM' + vin, 'e1*2018/858*00123*01', 'A1', 'V1', 'nap-de', 40, 16.5, 2, 'Diesel', new Date(Date.UTC(2022, 0, 4))], overrides);

async function xlsx(rows: ExcelJS.CellValue[][], edit?: (sheet: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Export');
  for (const cells of rows) sheet.addRow(cells);
  edit?.(sheet);
  book.addWorksheet('Notes').addRow(['only the first sheet is read']);
  return Buffer.from(await book.xlsx.writeBuffer());
}

async function parse(bytes: Buffer, options: Partial<ErpMapping['limits']> = {}) {
  const results: ErpRowResult[] = [];
  let failure: unknown;
  async function* chunks() {
    for (let offset = 0; offset < bytes.length; offset += 4096) yield bytes.subarray(offset, offset + 4096);
  }
  try {
    for await (const result of parseErpFile(chunks(), { ...mapping, limits: { ...mapping.limits, ...options } }, 'xlsx')) results.push(result);
  } catch (error) {
    failure = error;
  }
  return { results, failure };
}

describe('ERP XLSX', () => {
  it('maps the first sheet with the CSV mapping: number cells in the mapping’s units, date cells in its date format, blank rows skipped, bad cells per row', async () => {
    const { results, failure } = await parse(await xlsx([HEADER, row('000001'), [], row('000002', { 5: '18,6', 6: 9.82, 8: 'Elektro', 9: '31.12.2023' }), row('000003', { 7: 'zwei' })]));
    expect(failure).toBeUndefined();
    expect(results).toEqual([
      {
        row: 2,
        record: {
          manufacturerId: 'acme-trucks',
          vin: 'WMA06XZZ1NM000001',
          stage: 1,
          typeApprovalNumber: 'e1*2018/858*00123*01',
          variant: 'A1',
          version: 'V1',
          destination: 'nap-de',
          values: {
            MassGroup: { TechnicallyPermissibleMaximumLadenMass: 40000 },
            DimensionGroup: { Length: 16500 },
            GeneralConstructionGroup: { NumberOfAxles: 2 },
            EnergyConvertorTable: { EnergyConvertorGroup: [{ EnergySourceTable: { EnergySourceGroup: [{ EnergySource: '20' }] } }] },
            TypeApprovalIssueDate: '2022-01-04',
          },
        },
      },
      expect.objectContaining({ row: 4, record: expect.objectContaining({ values: expect.objectContaining({ MassGroup: { TechnicallyPermissibleMaximumLadenMass: 18600 }, DimensionGroup: { Length: 9820 }, TypeApprovalIssueDate: '2023-12-31' }) }) }),
      { row: 5, vin: 'WMA06XZZ1NM000003', errors: [{ column: 'Achsen', value: 'zwei', rule: 'number', message: '"zwei" is not a number (decimal separator ",")' }] },
    ]);
  });

  it('reports a value in a column without header as a row error, and a date-time cell against the date format', async () => {
    const { results } = await parse(await xlsx([HEADER, [...row('000001'), 'stray'], row('000002', { 9: new Date(Date.UTC(2022, 0, 4, 12)) })]));
    expect(results).toEqual([
      { row: 2, errors: [{ column: 'K', value: 'stray', rule: 'column_count', message: 'cell K2 has a value but its column has no header' }] },
      { row: 3, vin: 'WMA06XZZ1NM000002', errors: [{ column: 'Genehmigt am', value: '2022-01-04T12:00:00.000Z', rule: 'date_format', message: expect.stringContaining('DD.MM.YYYY') }] },
    ]);
  });

  it('refuses the whole file: a missing required column, a formula, merged cells, a text file, more bytes than allowed', async () => {
    const missing = await parse(await xlsx([HEADER.slice(1), row('000001').slice(1)]));
    expect(missing.failure).toMatchObject({ rule: 'missing_column', row: 1, message: 'header (line 1) lacks required column(s): Fahrgestellnummer' });

    const formula = await parse(await xlsx([HEADER, row('000001'), row('000002', { 5: { formula: 'F2*2', result: 80 } })]));
    expect(formula.failure).toBeInstanceOf(ErpFileError);
    expect(formula.failure).toMatchObject({ rule: 'formula', row: 3, message: expect.stringContaining('cell F3 holds a formula (F2*2)') });
    expect(formula.results).toEqual([]);

    const merged = await parse(await xlsx([HEADER, row('000001'), row('000002')], (sheet) => sheet.mergeCells('B2:B3')));
    expect(merged.failure).toMatchObject({ rule: 'merged_cells', row: 2, message: expect.stringContaining('merged cells (B2:B3)') });

    const text = await parse(Buffer.from([HEADER.join(';'), 'x'].join('\n')));
    expect(text.failure).toMatchObject({ rule: 'not_a_spreadsheet', message: expect.stringContaining('not an XLSX file') });

    const bytes = await xlsx([HEADER, row('000001')]);
    const large = await parse(bytes, { maxFileBytes: bytes.length - 1 });
    expect(large.failure).toMatchObject({ rule: 'file_too_large', message: `file exceeds the limit of ${bytes.length - 1} bytes` });
  });
});
