/**
 * A checkpoint as the witness keeps it: enough to compare with the database's checkpoints and to
 * trust the certificate that signed them, without the leaves (those stay in the database).
 */
export interface WitnessedCheckpoint {
  number: number;
  /** The database's clock when the chain heads were read (ISO 8601). */
  createdAt: string;
  digest: string;
  prevDigest: string;
  root: string;
  leafCount: number;
  /** SHA-256 of the seal certificate's DER, lowercase hex. */
  certificateFingerprint: string;
  /** The seal key's signature over the checkpoint payload, base64. */
  signature: string;
}

/** What the checkpoint activity answers the witness. */
export interface CheckpointResult {
  /** The new checkpoint; null when no chain changed since the last one. */
  checkpoint: WitnessedCheckpoint | null;
  /** ECOC_AUDIT_CHECKPOINT_INTERVAL as the worker is configured now. */
  intervalMs: number;
  /** Whether a webhook (ECOC_AUDIT_WITNESS_WEBHOOK_URL) wants the checkpoint. */
  publish: boolean;
}

/** Carried into the next run by continue-as-new: what verification needs from the witness. */
export interface WitnessCarried {
  /** The latest checkpoint witnessed so far (the checkpoint chain vouches for the ones before it). */
  last: WitnessedCheckpoint | null;
  /** The first checkpoint this witness saw (earlier ones were made before it started). */
  first: number | null;
  /** Fingerprints of every seal certificate that signed a witnessed checkpoint. */
  certificates: string[];
  /** How many checkpoints this witness has been given over all its runs. */
  witnessed: number;
}

export interface AuditWitnessInput {
  carried?: WitnessCarried | undefined;
  /** Until the first checkpoint answers with the configured interval. */
  intervalMs?: number | undefined;
}

export interface AuditWitnessState extends WitnessCarried {
  requests: number;
  answered: number;
  lastError?: { at: string; message: string } | undefined;
}
