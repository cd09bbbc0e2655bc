import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { Database } from '../platform/database/prisma.ts';

type Tx = Parameters<Parameters<Database['$transaction']>[0]>[0];

/**
 * Writes workflow audit entries, and projects the latest snapshot onto the certificate row (for
 * listing and dashboards); called inside the transaction of the step that caused them.
 */
export async function writeAuditEntries(tx: Tx | Database, entries: AuditEntry[]): Promise<void> {
  const last = entries.at(-1);
  if (!last) return;
  const { snapshot } = last;
  const statusChanged = entries.findLast((entry) => entry.toStatus !== undefined && entry.toStatus !== entry.fromStatus);
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
  await tx.auditRecord.createMany({
    skipDuplicates: true,
    data: entries.map((entry) => ({
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
  });
}
