import { id, text } from '../text.ts';
import { z } from './openapi-zod.ts';

export const auditRecordSchema = z
  .object({
    id: z.string().openapi({ description: 'Record id (ascending in write order)', example: '42' }),
    chain: z.string().openapi({ description: 'The record’s chain: `certificate:<id>`, `hub` (no certificate) or `legacy`', example: 'certificate:ecoc-WVWZZZ1JZXW000001-s1' }),
    seq: z.number().int().openapi({ description: 'Position in its chain (1, 2, 3, …)' }),
    occurredAt: z.string().openapi({ format: 'date-time' }),
    recordedAt: z.string().nullable().openapi({ format: 'date-time', description: 'When it was written (database clock); null in the legacy segment' }),
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

/** What verification can find (api/README.md, "Audit integrity"). */
export const auditProblemKinds = [
  'unchained',
  'content_altered',
  'link_broken',
  'records_missing',
  'mac_invalid',
  'mac_key_unknown',
  'checkpoint_mismatch',
  'not_checkpointed',
  'legacy_extended',
  'checkpoint_missing',
  'checkpoint_altered',
  'checkpoint_signature_invalid',
  'checkpoint_untrusted',
  'checkpoint_unwitnessed',
  'witness_mismatch',
  'witness_unavailable',
] as const;

export const auditProblemSchema = z
  .object({
    kind: z.enum(auditProblemKinds),
    /** The chain (`certificate:<id>`, `hub`, `legacy`) and position, for record problems. */
    chain: z.string().optional(),
    seq: z.number().int().optional(),
    /** The audit_record id, when there is a record to point at. */
    id: z.string().optional(),
    /** The checkpoint number, for checkpoint and witness problems. */
    checkpoint: z.number().int().optional(),
    message: z.string(),
    expected: z.string().optional(),
    actual: z.string().optional(),
  })
  .openapi('AuditProblem');

const checkpointHeadSchema = z.object({ number: z.number().int(), createdAt: z.string(), digest: z.string(), root: z.string(), leafCount: z.number().int() });

export const auditVerificationSchema = z
  .object({
    ok: z.boolean(),
    records: z.object({
      /** Records whose hash, link and MAC were recomputed (legacy records included). */
      checked: z.number().int(),
      chains: z.number().int(),
      /** Records newer than the last checkpoint: the ones a database superuser could still delete unnoticed. */
      afterLastCheckpoint: z.number().int(),
    }),
    /** The closed segment from before per-chain chaining (verified as before: hashes and links, no MACs). */
    legacy: z.object({ records: z.number().int(), unchained: z.number().int(), anchor: z.string().nullable(), head: z.string().nullable() }).nullable(),
    checkpoints: z.object({
      checked: z.number().int(),
      last: checkpointHeadSchema.nullable(),
      /** Checkpoints made moments ago that the witness has not answered for yet. */
      pendingWitness: z.array(z.number().int()),
    }),
    witness: z.object({
      workflow: z.object({ workflowId: z.string(), checked: z.number().int(), first: z.number().int().nullable(), last: z.number().int().nullable() }).nullable(),
      file: z.object({ path: z.string(), checked: z.number().int(), last: z.number().int().nullable() }).nullable(),
      /** Why a witness was not consulted (not configured here, skipped on request). */
      notes: z.array(z.string()),
    }),
    /** The first problem in verification order: checkpoints, witnesses, then records chain by chain. */
    firstInvalid: auditProblemSchema.optional(),
    /** Every problem found (one per chain at most; at most 100). */
    problems: z.array(auditProblemSchema),
  })
  .openapi('AuditVerification');

export type AuditRecordView = z.infer<typeof auditRecordSchema>;
export type AuditVerification = z.infer<typeof auditVerificationSchema>;
export type AuditProblem = z.infer<typeof auditProblemSchema>;
