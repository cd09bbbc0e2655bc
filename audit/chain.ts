import type { Prisma } from '../.generated/prisma/client.ts';
import { enqueueEvents } from '../events/catalogue.ts';
import type { Database } from '../platform/database/prisma.ts';
import { chainOf, GENESIS_HASH, jsonNormalized, recordHash } from './canonical.ts';
import { auditKeyring, recordMac, type AuditKeyring } from './mac.ts';

/**
 * First half of the per-chain advisory lock key (pg_advisory_xact_lock(int, int)); the second
 * half is hashtext(chain). Two chains may share a key now and then: they then take turns, which
 * is harmless; the unique (chain, seq) index is what guarantees one line per chain.
 */
const CHAIN_LOCK_SPACE = 72707370;

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
 * Appends records inside the caller's transaction, each to its own chain (the certificate's, or
 * the hub chain): next sequence number, the chain's previous hash, its own hash and a MAC under
 * the app's audit key. Writers of the same chain take turns on a transaction-level advisory lock
 * for that chain only (taken in chain-name order, so writers of several chains cannot deadlock);
 * writers of different certificates never wait for each other. Locks are released at commit, so
 * callers keep their transactions short.
 */
export async function appendAuditRecords(tx: Tx, records: AuditRecordInput[], keys: AuditKeyring = auditKeyring()): Promise<number> {
  if (records.length === 0) return 0;
  const chains = [...new Set(records.map((record) => chainOf(record.certificateId)))].sort();
  for (const chain of chains) await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_SPACE}::int, hashtext(${chain}))`;
  const entryKeys = records.flatMap((record) => (record.entryKey ? [record.entryKey] : []));
  const existing = entryKeys.length
    ? new Set((await tx.auditRecord.findMany({ where: { entryKey: { in: entryKeys } }, select: { entryKey: true } })).map((row) => row.entryKey))
    : new Set<string | null>();
  // The heads of these chains, and the database's clock (checkpoints find new records by it).
  const heads = await tx.$queryRaw<{ chain: string; seq: number | null; hash: string | null; now: Date }[]>`
    SELECT c.chain, h.seq, h.hash, date_trunc('milliseconds', now()) AS now
    FROM unnest(${chains}::text[]) AS c(chain)
    LEFT JOIN LATERAL (SELECT seq, hash FROM audit_record WHERE chain = c.chain ORDER BY seq DESC LIMIT 1) h ON true`;
  const recordedAt = heads[0]!.now;
  const head = new Map(heads.map((row) => [row.chain, { seq: row.seq ?? 0, hash: row.hash ?? GENESIS_HASH }]));
  const rows: Prisma.AuditRecordCreateManyInput[] = [];
  const written: AuditRecordInput[] = [];
  for (const record of records) {
    if (record.entryKey) {
      if (existing.has(record.entryKey)) continue;
      existing.add(record.entryKey);
    }
    const chain = chainOf(record.certificateId);
    const previous = head.get(chain)!;
    const fields = { ...record, chain, seq: previous.seq + 1, prevHash: previous.hash, recordedAt, detail: jsonNormalized(record.detail) };
    const hash = recordHash(fields);
    rows.push({ ...fields, detail: fields.detail as Prisma.InputJsonValue, hash, mac: recordMac(keys.current, hash), macKey: keys.current.id });
    head.set(chain, { seq: fields.seq, hash });
    written.push(record);
  }
  if (rows.length) await tx.auditRecord.createMany({ data: rows });
  // Events leave through the outbox written in this transaction: one per record, never without it.
  await enqueueEvents(tx, written);
  return rows.length;
}

/** For callers outside a transaction: one short transaction around the append. */
export async function recordAudit(db: Database, records: AuditRecordInput[]): Promise<void> {
  await db.$transaction((tx) => appendAuditRecords(tx, records));
}
