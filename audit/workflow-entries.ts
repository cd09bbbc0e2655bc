import { appendAuditRecords, type Tx } from './chain.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { Database } from '../platform/database/prisma.ts';

/**
 * Writes workflow audit entries to the hash-chained audit trail (idempotent by entry key), and
 * projects the latest snapshot onto the certificate row (for listing and dashboards); called
 * inside the transaction of the step that caused them, or in its own transaction.
 */
export async function writeAuditEntries(tx: Tx | Database, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (isClient(tx)) {
    await tx.$transaction((inner) => writeAuditEntries(inner, entries));
    return;
  }
  const last = entries.at(-1)!;
  const { snapshot } = last;
  const statusChanged = entries.findLast((entry) => entry.toStatus !== undefined && entry.toStatus !== entry.fromStatus);
  // Projection first (row lock on the certificate), chain last: the chain lock is held briefly.
  await tx.certificate.updateMany({
    where: { id: last.certificateId },
    data: {
      status: snapshot.status,
      owner: snapshot.owner,
      dataVersion: snapshot.dataVersion,
      messageVersion: snapshot.messageVersion,
      batchId: snapshot.batchId,
      reviewDeadline: snapshot.reviewDeadline ? new Date(snapshot.reviewDeadline) : null,
      ...(statusChanged ? { statusChangedAt: new Date(statusChanged.at) } : {}),
    },
  });
  await appendAuditRecords(
    tx,
    entries.map((entry) => ({
      entryKey: entry.key,
      occurredAt: new Date(entry.at),
      actor: entry.actor,
      action: entry.action,
      certificateId: entry.certificateId,
      detail: {
        fromStatus: entry.fromStatus ?? null,
        toStatus: entry.toStatus ?? null,
        dataVersion: entry.dataVersion,
        messageVersion: entry.messageVersion,
        ...(entry.detail ?? {}),
      },
    })),
  );
}

/** Transaction clients lack `$connect` (they do have `$transaction`: Prisma 7 nests transactions). */
function isClient(tx: Tx | Database): tx is Database {
  return '$connect' in tx;
}
