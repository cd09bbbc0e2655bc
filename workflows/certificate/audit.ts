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
}
