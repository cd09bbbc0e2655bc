import type { ErpCellError } from '../../schemas/erp/report.ts';

/** A source row before mapping: cells by column name, or why the row could not be read at all. */
export type SourceRow = { row: number; cells: Record<string, string> } | { row: number; errors: ErpCellError[] };
