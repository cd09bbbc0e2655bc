import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { Database } from '../platform/database/prisma.ts';

type Tx = Parameters<Parameters<Database['$transaction']>[0]>[0];

/** Writes workflow audit entries; called inside the transaction of the step that caused them. */
export async function writeAuditEntries(tx: Tx | Database, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
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
