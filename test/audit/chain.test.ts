import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { recordAudit } from '../../audit/chain.ts';
import { recordHash } from '../../audit/canonical.ts';
import { verifyAuditChain } from '../../audit/verify.ts';
import { writeAuditEntries } from '../../audit/workflow-entries.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import type { AuditEntry } from '../../workflows/certificate/audit.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const run = promisify(execFile);

let database: TestDatabase;
let db: Database;
let sql: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  // The cluster superuser: the tests tamper as someone with full database rights would.
  sql = new pg.Client({ connectionString: database.adminUrl });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
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

/** Runs a statement with the append-only trigger off, as a superuser tampering with the table would. */
async function tamper(statement: string, values: unknown[] = []): Promise<void> {
  await sql.query('BEGIN');
  await sql.query('ALTER TABLE audit_record DISABLE TRIGGER audit_record_no_update_delete');
  await sql.query(statement, values);
  await sql.query('ALTER TABLE audit_record ENABLE TRIGGER audit_record_no_update_delete');
  await sql.query('COMMIT');
}

describe('hash chain', () => {
  beforeEach(async () => {
    // Each test starts from an empty trail (superuser maintenance, trigger off).
    await sql.query('ALTER TABLE audit_record DISABLE TRIGGER USER');
    await sql.query('DELETE FROM audit_record');
    await sql.query('ALTER TABLE audit_record ENABLE TRIGGER USER');
  });

  test('concurrent writers produce one linear chain that verifies; entry keys keep retries from writing twice', async () => {
    const writers = Array.from({ length: 24 }, (_, writer) =>
      writer % 2 === 0
        ? writeAuditEntries(db, [entry(`w${writer}-a`, `ecoc-C${writer}`, 'status:approved'), entry(`w${writer}-b`, `ecoc-C${writer}`, 'status:signed')])
        : recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: `user${writer}`, action: 'api:download_message', certificateId: null, detail: { writer } }]),
    );
    await Promise.all(writers);
    // A retried activity re-sends the same entries: nothing new.
    await writeAuditEntries(db, [entry('w0-a', 'ecoc-C0', 'status:approved'), entry('w0-b', 'ecoc-C0', 'status:signed')]);
    const rows = await db.auditRecord.findMany({ orderBy: { id: 'asc' } });
    expect(rows).toHaveLength(12 * 2 + 12);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(rows[0]!.prevHash).toBe('0'.repeat(64));
    const result = await verifyAuditChain(db, { pageSize: 7 });
    expect(result).toMatchObject({ ok: true, checked: 36, legacyUnchained: 0, anchor: null, head: rows.at(-1)!.hash });
  });

  test('a row altered directly in PostgreSQL is pinpointed: id and what differs', async () => {
    await writeAuditEntries(db, [entry('t1', 'ecoc-T1', 'status:approved'), entry('t2', 'ecoc-T1', 'status:signed'), entry('t3', 'ecoc-T1', 'status:awaiting_release')]);
    const rows = await db.auditRecord.findMany({ orderBy: { id: 'asc' } });
    const victim = rows[1]!;
    await tamper(`UPDATE audit_record SET actor = 'mallory' WHERE id = $1`, [victim.id]);
    const result = await verifyAuditChain(db);
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ id: victim.id.toString(), kind: 'content_altered', expected: victim.hash });
    expect(result.firstInvalid!.message).toContain(`record ${victim.id}`);
    expect(result.checked).toBe(1);
  });

  test('a row rewritten with a recomputed hash, or a deleted row, breaks the link to the next record', async () => {
    await writeAuditEntries(db, [entry('r1', 'ecoc-R1', 'status:approved'), entry('r2', 'ecoc-R1', 'status:signed'), entry('r3', 'ecoc-R1', 'status:awaiting_release')]);
    const rows = await db.auditRecord.findMany({ orderBy: { id: 'asc' } });
    const victim = rows[1]!;
    const forged = recordHash({ prevHash: victim.prevHash!, occurredAt: victim.occurredAt, actor: 'mallory', action: victim.action, certificateId: victim.certificateId, entryKey: victim.entryKey, detail: victim.detail });
    await tamper(`UPDATE audit_record SET actor = 'mallory', hash = $2 WHERE id = $1`, [victim.id, forged]);
    const rewritten = await verifyAuditChain(db);
    expect(rewritten.firstInvalid).toMatchObject({ id: victim.id.toString(), kind: 'link_broken', expected: victim.hash, actual: forged });

    await tamper(`UPDATE audit_record SET actor = $2, hash = $3 WHERE id = $1`, [victim.id, victim.actor, victim.hash]);
    expect((await verifyAuditChain(db)).ok).toBe(true);
    await tamper('DELETE FROM audit_record WHERE id = $1', [victim.id]);
    const deleted = await verifyAuditChain(db);
    expect(deleted.firstInvalid).toMatchObject({ id: rows[0]!.id.toString(), kind: 'link_broken', expected: victim.hash });
  });

  test('ecoc audit verify exits 1 and names the tampered record; 0 when intact', async () => {
    await writeAuditEntries(db, [entry('c1', 'ecoc-C1', 'status:approved'), entry('c2', 'ecoc-C1', 'status:signed')]);
    const env = { ...process.env, DATABASE_URL: database.url, ECOC_LOG_LEVEL: 'warn' };
    const intact = await run('npx', ['tsx', 'cli/main.ts', 'audit', 'verify'], { env });
    expect(intact.stdout).toContain('audit chain intact: 2 record(s) verified');
    const [, second] = await db.auditRecord.findMany({ orderBy: { id: 'asc' } });
    await tamper(`UPDATE audit_record SET detail = jsonb_set(detail, '{note}', '"changed"') WHERE id = $1`, [second!.id]);
    const broken = await run('npx', ['tsx', 'cli/main.ts', 'audit', 'verify'], { env }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(broken?.code).toBe(1);
    expect(broken?.stdout).toContain(`audit chain BROKEN at record ${second!.id} (content_altered)`);
  });
});

describe('append-only', () => {
  test('the app’s own connection (a role that owns nothing) may not update, delete or truncate audit rows', async () => {
    await recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: 'rita', action: 'api:approve', certificateId: null, detail: {} }]);
    const [row] = await db.auditRecord.findMany({ orderBy: { id: 'desc' }, take: 1 });
    await expect(db.$executeRaw`DELETE FROM audit_record WHERE id = ${row!.id}`).rejects.toThrow(/permission denied for table audit_record/);
    await expect(db.$executeRaw`UPDATE audit_record SET actor = 'x' WHERE id = ${row!.id}`).rejects.toThrow(/permission denied for table audit_record/);
    await expect(db.$executeRaw`TRUNCATE audit_record`).rejects.toThrow(/permission denied for table audit_record/);
    await expect(db.auditRecord.deleteMany({})).rejects.toThrow(/permission denied/);
    expect(await db.auditRecord.count({ where: { id: row!.id } })).toBe(1);
  });

  test('a non-owner role, even with every privilege on the table, can neither delete nor switch the trigger off', async () => {
    const role = `ecoc_app_${Date.now().toString(36)}`;
    await sql.query(`CREATE ROLE ${role} LOGIN PASSWORD 'app'`);
    await sql.query(`GRANT ALL ON audit_record TO ${role}`);
    const url = new URL(database.url);
    url.username = role;
    url.password = 'app';
    const app = new pg.Client({ connectionString: url.toString() });
    await app.connect();
    try {
      await expect(app.query('DELETE FROM audit_record')).rejects.toThrow(/append-only/);
      await expect(app.query('ALTER TABLE audit_record DISABLE TRIGGER audit_record_no_update_delete')).rejects.toThrow(/must be owner/);
    } finally {
      await app.end();
      await sql.query(`REVOKE ALL ON audit_record FROM ${role}`);
      await sql.query(`DROP ROLE ${role}`);
    }
  });
});
