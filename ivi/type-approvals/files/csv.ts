import { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { unescapeFormula, writeCsv } from '../../../platform/csv.ts';
import { columnLetter } from '../../../platform/xlsx.ts';
import { utf8Problem } from '../../../platform/utf8.ts';
import type { TypeApprovalFileProblem } from '../../../schemas/ivi/type-approval-file.ts';
import { APPROVAL_FIELDS, type DraftCells, type DraftTable, type FileCell } from './table.ts';

/**
 * CSV is the Versions table with the approval fields as leading columns, repeated on every row
 * (each row must repeat the same values). UTF-8, comma-separated, `row` is the line a record
 * starts on (a quoted value may span lines).
 */

const APPROVAL_KEYS = new Set<string>(APPROVAL_FIELDS.map((field) => field.key));

export function csvDraftCells(bytes: Uint8Array): DraftCells | { problems: TypeApprovalFileProblem[] } {
  const encoding = utf8Problem(bytes);
  if (encoding) return { problems: [{ message: `the CSV file ${encoding}; save it as UTF-8` }] };
  let records: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    // With `info` and `raw` each record comes with its text and the line it ends on.
    records = parse(new TextDecoder().decode(bytes), { bom: true, relax_column_count: true, info: true, raw: true }) as unknown as typeof records;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines;
    return { problems: [{ ...(line ? { row: line } : {}), message: `the CSV file cannot be read: ${error.message}` }] };
  }
  const rows = records
    .map(({ record, raw, info }) => ({ row: info.lines - (raw.replace(/\r?\n$/, '').split('\n').length - 1), fields: record }))
    .filter(({ fields }) => fields.some((field) => field.trim() !== ''));
  const [header, ...data] = rows;
  if (!header) return { problems: [{ message: 'the CSV file is empty: expected a header row and one row per version' }] };

  const columns = header.fields.map((name, index) => ({ column: columnLetter(index + 1), name: name.trim() }));
  const approvalColumns = columns.filter(({ name }) => APPROVAL_KEYS.has(name));
  const problems: TypeApprovalFileProblem[] = [];
  const approval: FileCell[] = [];
  // Undoes the formula escape the export adds (platform/csv.ts), so export → import is exact.
  const valueAt = (fields: string[], index: number) => unescapeFormula(fields[index]?.trim() ?? '');
  const cellAt = (row: number, fields: string[], index: number): FileCell | undefined => {
    const value = valueAt(fields, index);
    return value === '' ? undefined : { value, row, column: columns[index]!.column, header: columns[index]!.name };
  };
  for (const { column, name } of approvalColumns) {
    const index = columns.findIndex((candidate) => candidate.column === column);
    const first = data[0] && cellAt(data[0].row, data[0].fields, index);
    if (first) approval.push(first);
    for (const { row, fields } of data.slice(1)) {
      const value = valueAt(fields, index);
      if (value !== (first?.value ?? '')) {
        problems.push({ row, column, header: name, message: `${name} "${value}" differs from "${first?.value ?? ''}" in row ${data[0]!.row}; every row repeats the approval's fields` });
      }
    }
  }
  for (const { row, fields } of data) {
    if (fields.length > columns.length) problems.push({ row, column: columnLetter(columns.length + 1), message: `the row has ${fields.length} fields, the header ${columns.length}` });
  }
  if (problems.length > 0) return { problems };
  const versionColumns = columns.map((column, index) => ({ ...column, index })).filter(({ name }) => !APPROVAL_KEYS.has(name));
  return {
    approval,
    header: { row: header.row, cells: versionColumns.map(({ column, name }) => ({ column, name })) },
    rows: data.map(({ row, fields }) => ({
      row,
      cells: new Map(versionColumns.flatMap(({ column, index }) => {
        const cell = cellAt(row, fields, index);
        return cell ? [[column, cell] as const] : [];
      })),
    })),
  };
}

export function csvFromTable(table: DraftTable): Uint8Array {
  const lead = table.approval.map(({ value }) => value);
  const records = [[...table.approval.map(({ key }) => key), ...table.header], ...table.rows.map((row) => [...lead, ...row.map((value) => value ?? '')])];
  return new TextEncoder().encode(writeCsv(records, { cast: { number: (value) => String(value) } }));
}
