import { z } from 'zod';
import { duration, optionalUrl } from './types.ts';

/**
 * The audit trail's integrity controls (api/README.md, "Audit integrity"): the MAC key the app
 * holds and the database never sees, how often a signed checkpoint commits to every chain, and
 * where checkpoints are witnessed outside the database (besides the witness workflow).
 */
export const auditConfigSchema = z.object({
  /**
   * The audit MAC key(s) as base64 (at least 32 random bytes; comma-separated, the first MACs new
   * records, the others only verify). Prefer ECOC_AUDIT_MAC_KEY_FILE; unset both for a generated
   * key in `<ECOC_DATA_DIR>/audit/mac-key`.
   */
  ECOC_AUDIT_MAC_KEY: z.string().min(1).optional(),
  /** File with the audit MAC key(s), one base64 key per line, the first MACs new records. */
  ECOC_AUDIT_MAC_KEY_FILE: z.string().min(1).optional(),
  /** How often the witness has a checkpoint taken (only when some chain changed). */
  ECOC_AUDIT_CHECKPOINT_INTERVAL: duration.prefault('5m').refine((ms) => ms >= 1_000, 'must be at least 1s'),
  /** Append-only JSON-lines copy of every checkpoint; default `<ECOC_DATA_DIR>/audit/witness.jsonl` on the worker host. */
  ECOC_AUDIT_WITNESS_FILE: z.string().min(1).optional(),
  /** Optional export: each checkpoint is POSTed here as JSON (retried for an hour). */
  ECOC_AUDIT_WITNESS_WEBHOOK_URL: optionalUrl(['http:', 'https:']),
});

export type AuditConfig = z.infer<typeof auditConfigSchema>;
