import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../../platform/database/migrate.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('migration applier (real PostgreSQL)', () => {
  let database: TestDatabase;
  let dir: string;

  beforeEach(async () => {
    database = await createEmptyDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ecoc-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterEach(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every migration to a fresh database with Prisma-compatible bookkeeping', async () => {
    const local = readMigrations(dir);
    expect(local.length).toBeGreaterThan(0);
    const result = await applyMigrations(database.url, undefined, dir);
    expect(result.applied).toEqual(local.map((m) => m.name));

    const rows = await query<{ id: string; migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; rolled_back_at: Date | null }>(
      database.url,
      'SELECT * FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(local.map((m) => m.name));
    for (const row of rows) {
      const sql = readFileSync(join(dir, row.migration_name, 'migration.sql'));
      // Prisma's checksum: lowercase hex SHA-256 of the migration.sql bytes.
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await query<{ table_name: string }>(database.url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['manufacturer', 'audit_record', 'certificate']));
  });

  it('is idempotent: a second run applies nothing and changes no record', async () => {
    await applyMigrations(database.url, undefined, dir);
    const before = await query(database.url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    const again = await applyMigrations(database.url, undefined, dir);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBe(before.length);
    expect(await query(database.url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name')).toEqual(before);
  });

  it('applies only the new migration when one is added later', async () => {
    await applyMigrations(database.url, undefined, dir);
    mkdirSync(join(dir, '29990101000000_add_note'));
    writeFileSync(join(dir, '29990101000000_add_note', 'migration.sql'), 'ALTER TABLE "manufacturer" ADD COLUMN "note" TEXT;\n');
    const result = await applyMigrations(database.url, undefined, dir);
    expect(result.applied).toEqual(['29990101000000_add_note']);
    const columns = await query<{ column_name: string }>(database.url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'manufacturer'");
    expect(columns.map((c) => c.column_name)).toContain('note');
  });

  it('refuses to run when an applied migration was edited afterwards (drift), and changes nothing', async () => {
    await applyMigrations(database.url, undefined, dir);
    const first = readMigrations(dir)[0]!;
    appendFileSync(join(dir, first.name, 'migration.sql'), '\n-- edited after release\n');
    mkdirSync(join(dir, '29990101000000_later'));
    writeFileSync(join(dir, '29990101000000_later', 'migration.sql'), 'CREATE TABLE "later" ("id" INT);\n');
    await expect(applyMigrations(database.url, undefined, dir)).rejects.toThrow(new RegExp(`edited afterwards.*${first.name}`));
    const tables = await query<{ table_name: string }>(database.url, "SELECT table_name FROM information_schema.tables WHERE table_name = 'later'");
    expect(tables).toEqual([]);
  });

  it('records a failed migration, rolls its SQL back and refuses to run past it', async () => {
    mkdirSync(join(dir, '29990101000000_broken'));
    writeFileSync(join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE "half" ("id" INT);\nSELECT * FROM "no_such_table";\n');
    await expect(applyMigrations(database.url, undefined, dir)).rejects.toThrow(/29990101000000_broken failed.*no_such_table/);
    const [failed] = await query<{ finished_at: Date | null; logs: string }>(database.url, `SELECT finished_at, logs FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`);
    expect(failed!.finished_at).toBeNull();
    expect(failed!.logs).toMatch(/no_such_table/);
    expect(await query(database.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half'")).toEqual([]);
    await expect(applyMigrations(database.url, undefined, dir)).rejects.toThrow(/failed earlier and was not resolved/);
  });
});
