/** One audit entry, produced by the workflow and written by whichever activity runs next. */
export interface AuditEntry {
  /** Unique per entry (made in the workflow), so writes are idempotent across activity retries. */
  key: string;
  certificateId: string;
  action: string;
  actor: string;
  at: string;
  fromStatus?: string | undefined;
  toStatus?: string | undefined;
  dataVersion: number;
  messageVersion: number;
  detail?: Record<string, unknown>;
  /** The certificate as it stands after this entry, for the database's status projection. */
  snapshot: CertificateSnapshot;
}

export interface CertificateSnapshot {
  status: string;
  owner: string | null;
  dataVersion: number;
  messageVersion: number;
  batchId: string | null;
  reviewDeadline: string | null;
}
