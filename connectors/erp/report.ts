import { erpReportSchema, type ErpReport } from '../../schemas/erp/report.ts';
import { ErpFileError } from './errors.ts';
import type { ErpRowResult } from './parse.ts';

/** `<file>.report.json` beside the processed or rejected file. */
export const reportFileName = (file: string) => `${file}.report.json`;

/** Collects row results as they stream by and produces the report file's content. */
export function createErpReportBuilder(file: { name: string; sha256: string; manufacturerId: string }) {
  const rows: ErpReport['rows'] = [];
  let fileError: ErpReport['fileError'];
  return {
    add(result: ErpRowResult): void {
      rows.push('record' in result ? { row: result.row, status: 'accepted', vin: result.record.vin } : { row: result.row, status: 'rejected', errors: result.errors, ...(result.vin ? { vin: result.vin } : {}) });
    },
    /** Records why the file stopped being read; anything but an `ErpFileError` is rethrown. */
    fail(error: unknown): void {
      if (!(error instanceof ErpFileError)) throw error;
      fileError = { rule: error.rule, message: error.message, ...(error.row !== undefined ? { row: error.row } : {}) };
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
