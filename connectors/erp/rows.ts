import type { ErpMapping } from '../../schemas/erp/mapping.ts';
import type { ErpCellError } from '../../schemas/erp/report.ts';
import { ErpFileError } from './errors.ts';

/** A source row before mapping: cells by column name, or why the row could not be read at all. */
export type SourceRow = { row: number; cells: Record<string, string> } | { row: number; errors: ErpCellError[] };

/** The header row (CSV line, sheet row) must name every required column of the mapping. */
export function requireColumns(header: readonly string[], mapping: ErpMapping, line: number): void {
  const missing = mapping.columns.filter((column) => column.required && !header.includes(column.column)).map((column) => column.column);
  if (missing.length > 0) throw new ErpFileError(`header (line ${line}) lacks required column(s): ${missing.join(', ')}`, 'missing_column', line);
}
