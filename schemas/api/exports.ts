import { auditRecordSchema } from './audit.ts';
import { certificateListQuerySchema, certificateSummarySchema } from './certificates.ts';
import { queues } from './console.ts';
import { z } from './openapi-zod.ts';

/**
 * CSV exports for compliance reporting. The certificate export takes the list's filters and the
 * console's work queues, without paging: every match, streamed.
 */
export const certificateExportQuerySchema = certificateListQuerySchema.omit({ after: true, limit: true }).extend({
  queue: z.enum(queues).optional().openapi({ description: 'A console work queue (my-reviews, blocked, ready-to-release, all), combined with the other filters' }),
});
export type CertificateExportQuery = z.infer<typeof certificateExportQuerySchema>;

/** The certificate export's columns: the list's summary fields, in this order. */
export const certificateExportColumns: readonly string[] = Object.keys(certificateSummarySchema.shape);

/** The audit export's columns: an AuditRecord's fields (detail as JSON). */
export const auditExportColumns: readonly string[] = Object.keys(auditRecordSchema.shape);
