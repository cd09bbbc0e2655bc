import { id, text } from '../text.ts';
import { z } from './openapi-zod.ts';

export const auditRecordSchema = z
  .object({
    id: z.string().openapi({ description: 'Position in the chain (ascending)', example: '42' }),
    occurredAt: z.string().openapi({ format: 'date-time' }),
    actor: z.string(),
    action: z.string(),
    certificateId: z.string().nullable(),
    entryKey: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    prevHash: z.string().nullable(),
    hash: z.string().nullable(),
  })
  .openapi('AuditRecord');

export const auditListSchema = z.object({ records: z.array(auditRecordSchema), nextCursor: z.string().nullable() }).openapi('AuditRecordPage');

export const auditQuerySchema = z.object({
  after: text({ max: 20 }).regex(/^\d+$/, 'expected a record id').optional().openapi({ description: 'Only records after this id (cursor)' }),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const auditExportQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Records at or after this time' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Records before this time' }),
  certificateId: id().optional(),
});

export const auditInvalidKinds = ['content_altered', 'link_broken', 'unchained'] as const;

export const auditVerificationSchema = z
  .object({
    ok: z.boolean(),
    /** Records whose hashes were recomputed. */
    checked: z.number().int(),
    /** Records written before the chain existed (before the audit_chain migration), at the start. */
    legacyUnchained: z.number().int(),
    /** The first chained record's prev_hash when it is not the genesis hash (an archived prefix). */
    anchor: z.string().nullable(),
    head: z.string().nullable(),
    firstInvalid: z
      .object({
        id: z.string(),
        kind: z.enum(auditInvalidKinds),
        message: z.string(),
        expected: z.string().optional(),
        actual: z.string().optional(),
      })
      .optional(),
  })
  .openapi('AuditVerification');

export type AuditRecordView = z.infer<typeof auditRecordSchema>;
export type AuditVerification = z.infer<typeof auditVerificationSchema>;
