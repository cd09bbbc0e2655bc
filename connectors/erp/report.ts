import { erpReportSchema, type ErpCellError, type ErpReport } from '../../schemas/erp/report.ts';
import { printableText } from '../../schemas/text.ts';
import { ErpFileError } from './errors.ts';
import type { ErpRowResult } from './parse.ts';

/** `<file>.report.json` beside the processed or rejected file. */
export const reportFileName = (file: string) => `${file}.report.json`;

/**
 * A cell error as the report keeps it: the refused value quoted printably (escapes for NUL and
 * unpaired surrogates, at most 200 characters), so the report itself is text PostgreSQL and
 * every reader accept.
 */
const reportable = (error: ErpCellError): ErpCellError => ({
  column: printableText(error.column, 300),
  value: printableText(error.value),
  rule: error.rule,
  message: printableText(error.message, 2_000),
});

/** Collects row results as they stream by and produces the report file's content. */
export function createErpReportBuilder(file: { name: string; sha256: string; manufacturerId: string }) {
  const rows: ErpReport['rows'] = [];
  let fileError: ErpReport['fileError'];
  return {
    add(result: ErpRowResult): void {
      rows.push(
        'record' in result
          ? { row: result.row, status: 'accepted', vin: result.record.vin }
          : { row: result.row, status: 'rejected', errors: result.errors.map(reportable), ...(result.vin ? { vin: printableText(result.vin) } : {}) },
      );
    },
    /** Records why the file stopped being read; anything but an `ErpFileError` is rethrown. */
    fail(error: unknown): void {
      if (!(error instanceof ErpFileError)) throw error;
      fileError = { rule: error.rule, message: printableText(error.message, 2_000), ...(error.row !== undefined ? { row: error.row } : {}) };
    },
    finish(processedAt: Date = new Date()): ErpReport {
      const accepted = rows.filter((r) => r.status === 'accepted').length;
      const rejected = rows.length - accepted;
      const status = accepted === 0 ? 'rejected' : rejected > 0 || fileError ? 'partial' : 'accepted';
      return erpReportSchema.parse({
        file: file.name,
        sha256: file.sha256,
        manufacturerId: file.manufacturerId,
        processedAt: processedAt.toISOString(),
        status,
        totals: { rows: rows.length, accepted, rejected },
        ...(fileError ? { fileError } : {}),
        rows,
      });
    },
  };
}
