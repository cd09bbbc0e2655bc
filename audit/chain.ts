import type { Prisma } from '../.generated/prisma/client.ts';
import type { Database } from '../platform/database/prisma.ts';
import { GENESIS_HASH, jsonNormalized, recordHash } from './canonical.ts';

/** pg advisory lock key held by every audit writer until its transaction ends. */
const CHAIN_LOCK = 72707370;

export type Tx = Prisma.TransactionClient;

export interface AuditRecordInput {
  /** Makes the write idempotent (a retried activity); null for one-off events. */
  entryKey: string | null;
  occurredAt: Date;
  actor: string;
  action: string;
  certificateId: string | null;
  detail: Record<string, unknown>;
}

/**
 * Appends records to the hash chain inside the caller's transaction. The transaction-level
 * advisory lock makes concurrent writers take turns, so the chain stays one line in id order;
 * it is released at commit, so callers keep their transactions short.
 */
export async function appendAuditRecords(tx: Tx, records: AuditRecordInput[]): Promise<number> {
  if (records.length === 0) return 0;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`;
  const keys = records.flatMap((record) => (record.entryKey ? [record.entryKey] : []));
  const existing = keys.length
    ? new Set((await tx.auditRecord.findMany({ where: { entryKey: { in: keys } }, select: { entryKey: true } })).map((row) => row.entryKey))
    : new Set<string | null>();
  const head = await tx.auditRecord.findFirst({ where: { hash: { not: null } }, orderBy: { id: 'desc' }, select: { hash: true } });
  let prevHash = head?.hash ?? GENESIS_HASH;
  const rows: Prisma.AuditRecordCreateManyInput[] = [];
  for (const record of records) {
    if (record.entryKey) {
      if (existing.has(record.entryKey)) continue;
      existing.add(record.entryKey);
    }
    const fields = { ...record, prevHash, detail: jsonNormalized(record.detail) };
    const hash = recordHash(fields);
    rows.push({ ...fields, detail: fields.detail as Prisma.InputJsonValue, hash });
    prevHash = hash;
  }
  // One multi-row INSERT assigns ids in list order, which is the chain's order.
  if (rows.length) await tx.auditRecord.createMany({ data: rows });
  return rows.length;
}

/** For callers outside a transaction: one short transaction around the append. */
export async function recordAudit(db: Database, records: AuditRecordInput[]): Promise<void> {
  await db.$transaction((tx) => appendAuditRecords(tx, records));
}
