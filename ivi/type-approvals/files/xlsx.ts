import ExcelJS from 'exceljs';
import { loadWorkbook, sheetRows, SpreadsheetError, type SheetRow, type XlsxLimits } from '../../../platform/xlsx.ts';
import type { TypeApprovalFileProblem } from '../../../schemas/ivi/type-approval-file.ts';
import type { DraftCells, DraftTable, FileCell } from './table.ts';

/** Sheet names of the XLSX layout (ivi/type-approvals/files/README.md). */
export const APPROVAL_SHEET = 'Approval';
export const VERSIONS_SHEET = 'Versions';

/** The workbook's cells, or the problems that keep it from being read at all. */
export async function xlsxDraftCells(bytes: Uint8Array, limits?: XlsxLimits): Promise<DraftCells | { problems: TypeApprovalFileProblem[] }> {
  try {
    const workbook = await loadWorkbook(bytes, limits);
    const [approvalSheet, versionsSheet] = [workbook.getWorksheet(APPROVAL_SHEET), workbook.getWorksheet(VERSIONS_SHEET)];
    const missing = [approvalSheet ? [] : [APPROVAL_SHEET], versionsSheet ? [] : [VERSIONS_SHEET]].flat();
    if (!approvalSheet || !versionsSheet) {
      return { problems: missing.map((sheet) => ({ sheet, message: `the workbook has no sheet named ${sheet} (it has ${workbook.worksheets.map((s) => s.name).join(', ') || 'none'})` })) };
    }
    const problems: TypeApprovalFileProblem[] = [];
    const approval = approvalCells(sheetRows(approvalSheet), problems);
    const [header, ...rows] = sheetRows(versionsSheet);
    if (!header) return { problems: [...problems, { sheet: VERSIONS_SHEET, message: 'the sheet is empty: expected a header row (Variant, Version, IVI paths) and one row per version' }] };
    const names = new Map<string, string>();
    for (const cell of header.cells) {
      if (typeof cell.value === 'string') names.set(cell.column, cell.value.trim());
      else problems.push({ sheet: VERSIONS_SHEET, row: header.row, column: cell.column, message: 'a header must be text (Variant, Version or an IVI path)' });
    }
    if (problems.length > 0) return { problems };
    return {
      approvalSheet: APPROVAL_SHEET,
      versionsSheet: VERSIONS_SHEET,
      approval,
      header: { row: header.row, cells: [...names].map(([column, name]) => ({ column, name })) },
      rows: rows.map((row) => ({
        row: row.row,
        cells: new Map(row.cells.map((cell) => [cell.column, { value: cell.value, row: row.row, column: cell.column, header: names.get(cell.column) ?? '' }])),
      })),
    };
  } catch (error) {
    if (!(error instanceof SpreadsheetError)) throw error;
    return { problems: [spreadsheetProblem(error)] };
  }
}

/** Approval rows: the key in column A, its value in column B. */
function approvalCells(rows: SheetRow[], problems: TypeApprovalFileProblem[]): FileCell[] {
  return rows.flatMap(({ row, cells }) => {
    const [key, value, ...rest] = cells;
    const bad = (column: string, message: string) => problems.push({ sheet: APPROVAL_SHEET, row, column, message });
    if (key?.column !== 'A' || typeof key.value !== 'string') {
      bad(key?.column ?? 'A', 'expected the field name in column A and its value in column B');
      return [];
    }
    if (value && value.column !== 'B') bad(value.column, `${key.value.trim()}: the value belongs in column B`);
    for (const extra of rest) bad(extra.column, 'only columns A (field) and B (value) are read');
    return value?.column === 'B' ? [{ value: value.value, row, column: 'B', header: key.value.trim() }] : [];
  });
}

function spreadsheetProblem(error: SpreadsheetError): TypeApprovalFileProblem {
  const cell = error.cell ? /^([A-Z]+)(\d+)/.exec(error.cell) : null;
  return {
    ...(error.sheet ? { sheet: error.sheet } : {}),
    ...(cell ? { row: Number(cell[2]), column: cell[1]! } : {}),
    message: error.message,
  };
}

/** Text cells for text (so `01` stays `01`), number cells for numbers. */
export async function xlsxFromTable(table: DraftTable): Promise<Uint8Array> {
  const workbook = new ExcelJS.Workbook();
  const approval = workbook.addWorksheet(APPROVAL_SHEET);
  for (const { key, value } of table.approval) approval.addRow([key, value]);
  approval.getColumn(1).width = 20;
  approval.getColumn(2).width = 40;
  const versions = workbook.addWorksheet(VERSIONS_SHEET, { views: [{ state: 'frozen', xSplit: 2, ySplit: 1 }] });
  versions.addRow(table.header).font = { bold: true };
  versions.addRows(table.rows);
  return new Uint8Array(await workbook.xlsx.writeBuffer());
}
