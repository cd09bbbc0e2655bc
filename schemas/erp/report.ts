import { z } from 'zod';

/** One problem with one cell (or the row as a whole: column "*"). */
export const erpCellErrorSchema = z.object({
  column: z.string(),
  value: z.string(),
  /** Machine-readable rule name, e.g. `required`, `integer`, `date_format`, `vehicle_record.vin`. */
  rule: z.string(),
  message: z.string(),
});

/** `<file>.report.json`, written next to the file in `processed/` or `rejected/`. */
export const erpReportSchema = z.object({
  file: z.string(),
  sha256: z.string(),
  manufacturerId: z.string(),
  processedAt: z.iso.datetime(),
  /** accepted: every row became a record; partial: some rows rejected; rejected: nothing usable. */
  status: z.enum(['accepted', 'partial', 'rejected']),
  totals: z.object({ rows: z.number().int(), accepted: z.number().int(), rejected: z.number().int() }),
  /** A problem with the file itself (encoding, structure, size); rows before it are still listed. */
  fileError: z.object({ rule: z.string(), message: z.string(), row: z.number().int().optional() }).optional(),
  rows: z.array(
    z.discriminatedUnion('status', [
      z.object({ row: z.number().int(), status: z.literal('accepted'), vin: z.string() }),
      z.object({ row: z.number().int(), status: z.literal('rejected'), vin: z.string().optional(), errors: z.array(erpCellErrorSchema).min(1) }),
    ]),
  ),
});

export type ErpCellError = z.infer<typeof erpCellErrorSchema>;
export type ErpReport = z.infer<typeof erpReportSchema>;
