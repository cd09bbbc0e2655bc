import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, test } from 'vitest';
import { legacyRecordHash, recordHash } from '../../audit/canonical.ts';
import { appendAuditRecords, recordAudit } from '../../audit/chain.ts';
import { verifyAudit } from '../../audit/verify.ts';
import { writeAuditEntries } from '../../audit/workflow-entries.ts';
import { applyMigrations, MIGRATIONS_DIR } from '../../platform/database/migrate.ts';
import { grantAppRole } from '../../platform/database/roles.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import type { AuditEntry } from '../../workflows/certificate/audit.ts';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

const run = promisify(execFile);

let database: TestDatabase;
let db: Database;
/** The cluster superuser on the test database: everything an attacker with full database access can do. */
let superuser: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  superuser = new pg.Client({ connectionString: database.adminUrl });
  await superuser.connect();
});
afterAll(async () => {
  await superuser?.end();
  await db?.$disconnect();
  await database?.drop();
});

function entry(key: string, certificateId: string, action: string): AuditEntry {
  return {
    key,
    certificateId,
    action,
    actor: 'rita',
    at: new Date().toISOString(),
    fromStatus: 'in_review',
    toStatus: 'approved',
    dataVersion: 1,
    messageVersion: 1,
    detail: { note: 'ok', nested: { b: 2, a: [1, 'x', null] } },
    snapshot: { status: 'approved', owner: 'rita', dataVersion: 1, messageVersion: 1, batchId: null, reviewDeadline: null },
  };
}

/** Runs statements with triggers skipped, as a superuser tampering with the table would. */
async function tamper(statement: string, values: unknown[] = []): Promise<void> {
  await superuser.query('BEGIN');
  await superuser.query('SET LOCAL session_replication_role = replica');
  await superuser.query(statement, values);
  await superuser.query('COMMIT');
}

// Each test starts from an empty trail (superuser maintenance, triggers skipped).
beforeEach(async () => {
  await tamper('DELETE FROM audit_record');
});

describe('per-certificate chains', () => {

  test('concurrent writers give every certificate (and the hub) its own gapless chain that verifies; entry keys keep retries from writing twice', async () => {
    const writers = Array.from({ length: 24 }, (_, writer) =>
      writer % 2 === 0
        ? writeAuditEntries(db, [entry(`w${writer}-a`, `ecoc-C${writer}`, 'status:approved'), entry(`w${writer}-b`, `ecoc-C${writer}`, 'status:signed')])
        : recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: `user${writer}`, action: 'api:download_message', certificateId: null, detail: { writer } }]),
    );
    await Promise.all(writers);
    // A retried activity re-sends the same entries: nothing new.
    await writeAuditEntries(db, [entry('w0-a', 'ecoc-C0', 'status:approved'), entry('w0-b', 'ecoc-C0', 'status:signed')]);
    const rows = await db.auditRecord.findMany({ orderBy: [{ chain: 'asc' }, { seq: 'asc' }] });
    expect(rows).toHaveLength(12 * 2 + 12);
    const chains = new Map<string, typeof rows>();
    for (const row of rows) chains.set(row.chain, [...(chains.get(row.chain) ?? []), row]);
    expect(chains.size).toBe(13);
    expect(chains.get('hub')!.map((row) => row.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const [chain, records] of chains) {
      expect(records[0]!.prevHash, chain).toBe('0'.repeat(64));
      for (let i = 1; i < records.length; i += 1) expect(records[i]!.prevHash).toBe(records[i - 1]!.hash);
      expect(records.every((record) => record.mac && record.macKey && record.recordedAt)).toBe(true);
    }
    expect(chains.get('certificate:ecoc-C4')!.map((row) => [row.seq, row.action])).toEqual([
      [1, 'status:approved'],
      [2, 'status:signed'],
    ]);
    const result = await verifyAudit(db, { pageSize: 7 });
    expect(result).toMatchObject({ ok: true, records: { checked: 36, chains: 13, afterLastCheckpoint: 36 }, legacy: null, problems: [] });
  });

  test('concurrent writers for 200 certificates: each certificate gets a gapless chain of its own writes, and the trail verifies', async () => {
    const certificates = 200;
    const steps = ['status:approved', 'status:signed', 'status:delivered'];
    // Every certificate's steps are written by different writers at once, interleaved with every other certificate's and the hub's.
    await Promise.all([
      ...steps.flatMap((action, step) => Array.from({ length: certificates }, (_, c) => writeAuditEntries(db, [entry(`m${c}-${step}`, `ecoc-M${c}`, action)]))),
      ...Array.from({ length: 20 }, (_, writer) => recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: `user${writer}`, action: 'api:download_message', certificateId: null, detail: { writer } }])),
    ]);
    const rows = await db.auditRecord.findMany({ orderBy: [{ chain: 'asc' }, { seq: 'asc' }] });
    const chains = new Map<string, typeof rows>();
    for (const row of rows) chains.set(row.chain, [...(chains.get(row.chain) ?? []), row]);
    expect(chains.size).toBe(certificates + 1);
    for (let c = 0; c < certificates; c += 1) {
      const records = chains.get(`certificate:ecoc-M${c}`) ?? [];
      expect(records.map((record) => record.seq), `ecoc-M${c}`).toEqual([1, 2, 3]);
      expect(new Set(records.map((record) => record.action)), `ecoc-M${c}`).toEqual(new Set(steps));
      expect(records[0]!.prevHash).toBe('0'.repeat(64));
      for (let i = 1; i < records.length; i += 1) expect(records[i]!.prevHash, `ecoc-M${c} seq ${i + 1}`).toBe(records[i - 1]!.hash);
    }
    expect(chains.get('hub')!.map((row) => row.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await verifyAudit(db)).toMatchObject({ ok: true, records: { checked: certificates * steps.length + 20, chains: certificates + 1 }, problems: [] });
  });

  test('a row altered directly in PostgreSQL is pinpointed: chain, seq, id and what differs', async () => {
    await writeAuditEntries(db, [entry('t1', 'ecoc-T1', 'status:approved'), entry('t2', 'ecoc-T1', 'status:signed'), entry('t3', 'ecoc-T1', 'status:awaiting_release')]);
    const victim = (await db.auditRecord.findFirst({ where: { chain: 'certificate:ecoc-T1', seq: 2 } }))!;
    await tamper(`UPDATE audit_record SET actor = 'mallory' WHERE id = $1`, [victim.id]);
    const result = await verifyAudit(db);
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ kind: 'content_altered', chain: 'certificate:ecoc-T1', seq: 2, id: victim.id.toString(), expected: victim.hash });
    expect(result.firstInvalid!.message).toContain(`record ${victim.id}`);
    expect(result.records.checked).toBe(1);
  });

  test('a row rewritten with a recomputed hash fails its MAC; a deleted row leaves a named gap', async () => {
    await writeAuditEntries(db, [entry('r1', 'ecoc-R1', 'status:approved'), entry('r2', 'ecoc-R1', 'status:signed'), entry('r3', 'ecoc-R1', 'status:awaiting_release')]);
    const victim = (await db.auditRecord.findFirst({ where: { chain: 'certificate:ecoc-R1', seq: 2 } }))!;
    const forged = recordHash({ ...victim, prevHash: victim.prevHash!, recordedAt: victim.recordedAt!, actor: 'mallory' });
    await tamper(`UPDATE audit_record SET actor = 'mallory', hash = $2 WHERE id = $1`, [victim.id, forged]);
    const rewritten = await verifyAudit(db);
    expect(rewritten.firstInvalid).toMatchObject({ kind: 'mac_invalid', chain: 'certificate:ecoc-R1', seq: 2, id: victim.id.toString() });

    await tamper(`UPDATE audit_record SET actor = $2, hash = $3 WHERE id = $1`, [victim.id, victim.actor, victim.hash]);
    expect((await verifyAudit(db)).ok).toBe(true);
    await tamper('DELETE FROM audit_record WHERE id = $1', [victim.id]);
    const deleted = await verifyAudit(db);
    expect(deleted.firstInvalid).toMatchObject({ kind: 'records_missing', chain: 'certificate:ecoc-R1', seq: 2 });
    expect(deleted.firstInvalid!.message).toContain('goes from seq 1 to seq 3');
  });

  test('ecoc audit verify exits 1 and names the tampered record; 0 when intact', async () => {
    await writeAuditEntries(db, [entry('c1', 'ecoc-C1', 'status:approved'), entry('c2', 'ecoc-C1', 'status:signed')]);
    // The witness workflow is read from the run's Temporal; this task queue has none and the trail no checkpoints.
    const env = { ...process.env, DATABASE_URL: database.url, TEMPORAL_ADDRESS: inject('temporalAddress'), ECOC_TASK_QUEUE: `chain-${Date.now()}`, ECOC_LOG_LEVEL: 'warn' };
    const intact = await run('npx', ['tsx', 'cli/main.ts', 'audit', 'verify'], { env });
    expect(intact.stdout).toContain('audit trail intact: 2 record(s) in 1 chain(s) verified');
    const second = (await db.auditRecord.findFirst({ where: { chain: 'certificate:ecoc-C1', seq: 2 } }))!;
    await tamper(`UPDATE audit_record SET detail = jsonb_set(detail, '{note}', '"changed"') WHERE id = $1`, [second.id]);
    const broken = await run('npx', ['tsx', 'cli/main.ts', 'audit', 'verify'], { env }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(broken?.code).toBe(1);
    expect(broken?.stdout).toContain(`audit trail BROKEN at chain certificate:ecoc-C1, seq 2, record ${second.id} (content_altered)`);
  });
});

describe('concurrency per chain only', () => {
  test('a writer holding one certificate’s chain does not hold up another certificate or the hub; a second writer of the same certificate waits its turn', async () => {
    const record = (certificateId: string | null, action: string) => ({ entryKey: null, occurredAt: new Date(), actor: 'rita', action, certificateId, detail: {} });
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    // Certificate P's writer appends, then keeps its transaction (and P's chain lock) open.
    const holder = db.$transaction(async (tx) => {
      await appendAuditRecords(tx, [record('ecoc-P', 'status:approved')]);
      locked();
      await released;
    });
    await isLocked;
    const settled = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => 'done' as const), new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), ms))]);
    // Other certificates and the hub chain write meanwhile.
    expect(await settled(Promise.all([recordAudit(db, [record('ecoc-Q', 'status:approved')]), recordAudit(db, [record(null, 'api:key_created')])]), 10_000)).toBe('done');
    // The same certificate waits for the holder's commit.
    const sameChain = recordAudit(db, [record('ecoc-P', 'status:signed')]);
    expect(await settled(sameChain, 1_000)).toBe('waiting');
    release();
    await holder;
    await sameChain;
    const chainP = await db.auditRecord.findMany({ where: { chain: 'certificate:ecoc-P' }, orderBy: { seq: 'asc' } });
    expect(chainP.map((row) => [row.seq, row.action])).toEqual([
      [1, 'status:approved'],
      [2, 'status:signed'],
    ]);
    expect(chainP[1]!.prevHash).toBe(chainP[0]!.hash);
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});

describe('append-only', () => {
  test('the app’s own connection may neither update, delete nor truncate audit rows', async () => {
    await recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: 'rita', action: 'api:approve', certificateId: null, detail: {} }]);
    const [row] = await db.auditRecord.findMany({ orderBy: { id: 'desc' }, take: 1 });
    await expect(db.$executeRaw`DELETE FROM audit_record WHERE id = ${row!.id}`).rejects.toThrow(/permission denied for table audit_record/);
    await expect(db.$executeRaw`UPDATE audit_record SET actor = 'x' WHERE id = ${row!.id}`).rejects.toThrow(/permission denied for table audit_record/);
    await expect(db.$executeRaw`TRUNCATE audit_record`).rejects.toThrow(/permission denied for table audit_record/);
    await expect(db.auditRecord.deleteMany({})).rejects.toThrow(/permission denied/);
    await expect(db.$executeRaw`DELETE FROM audit_checkpoint`).rejects.toThrow(/permission denied for table audit_checkpoint/);
    expect(await db.auditRecord.count({ where: { id: row!.id } })).toBe(1);
  });

  test('even the owner meets the append-only triggers unless it switches them off', async () => {
    await recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: 'rita', action: 'api:approve', certificateId: null, detail: {} }]);
    const owner = new pg.Client({ connectionString: database.ownerUrl });
    await owner.connect();
    try {
      await expect(owner.query('DELETE FROM audit_record')).rejects.toThrow(/audit_record is append-only: DELETE is not allowed/);
      await expect(owner.query(`UPDATE audit_record SET actor = 'x'`)).rejects.toThrow(/audit_record is append-only: UPDATE is not allowed/);
      await expect(owner.query('TRUNCATE audit_checkpoint')).rejects.toThrow(/audit_checkpoint is append-only: TRUNCATE is not allowed/);
      await expect(owner.query(`INSERT INTO audit_record (chain, seq, actor, action) VALUES ('legacy', 999999, 'x', 'y')`)).rejects.toThrow(/legacy audit segment is closed/);
    } finally {
      await owner.end();
    }
  });
});

describe('legacy segment', () => {
  test('records from before per-chain chaining become a closed segment, verified as before; new records chain per certificate', async () => {
    const old = await createEmptyDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'ecoc-legacy-'));
    try {
      // The migrations as they were before this change, and records written the old way (one global chain).
      cpSync(MIGRATIONS_DIR, dir, { recursive: true, filter: (path) => !path.includes('per_chain_audit_checkpoints') });
      await applyMigrations(old.ownerUrl, undefined, dir);
      const ownerSql = new pg.Client({ connectionString: old.ownerUrl });
      await ownerSql.connect();
      let prevHash = '0'.repeat(64);
      const hashes: string[] = [];
      for (const [index, actor] of ['erp', 'rita', 'rob'].entries()) {
        const fields = { prevHash, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)), actor, action: 'status:approved', certificateId: 'ecoc-OLD', entryKey: `old-${index}`, detail: { index } };
        const hash = legacyRecordHash(fields);
        await ownerSql.query(
          'INSERT INTO audit_record (occurred_at, actor, action, certificate_id, entry_key, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [fields.occurredAt, actor, fields.action, fields.certificateId, fields.entryKey, fields.detail, prevHash, hash],
        );
        hashes.push(hash);
        prevHash = hash;
      }
      await ownerSql.end();

      // This change's migration, then the app role's rights.
      const applied = await applyMigrations(old.ownerUrl);
      expect(applied.applied).toEqual([expect.stringMatching(/_per_chain_audit_checkpoints$/)]);
      await grantAppRole(old.ownerUrl, new URL(old.appUrl).username);
      const appDb = createDatabase(old.appUrl);
      try {
        const legacy = await appDb.auditRecord.findMany({ where: { chain: 'legacy' }, orderBy: { seq: 'asc' } });
        expect(legacy.map((row) => [row.seq, row.hash])).toEqual(hashes.map((hash, index) => [index + 1, hash]));
        await recordAudit(appDb, [{ entryKey: 'new-1', occurredAt: new Date(), actor: 'rita', action: 'status:signed', certificateId: 'ecoc-OLD', detail: {} }]);
        const fresh = (await appDb.auditRecord.findUnique({ where: { entryKey: 'new-1' } }))!;
        expect(fresh).toMatchObject({ chain: 'certificate:ecoc-OLD', seq: 1, prevHash: '0'.repeat(64) });
        expect(await verifyAudit(appDb)).toMatchObject({ ok: true, records: { checked: 4, chains: 2 }, legacy: { records: 3, unchained: 0, anchor: null, head: hashes[2] } });

        const admin = new pg.Client({ connectionString: old.adminUrl });
        await admin.connect();
        await admin.query(`BEGIN; SET LOCAL session_replication_role = replica; UPDATE audit_record SET actor = 'mallory' WHERE entry_key = 'old-1'; COMMIT`);
        await admin.end();
        const broken = await verifyAudit(appDb);
        expect(broken.firstInvalid).toMatchObject({ kind: 'content_altered', chain: 'legacy', seq: 2 });
      } finally {
        await appDb.$disconnect();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await old.drop();
    }
  });
});
