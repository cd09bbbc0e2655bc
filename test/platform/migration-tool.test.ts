import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../platform/database/migrate.ts';
import {
  createMigration,
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  diffMigrationsToSchema,
  migrationSlug,
  migrationStatus,
  utcTimestamp,
} from '../../prisma/tools/migrations.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/database.ts';

const CLI = new URL('../../prisma/tools/create-migration.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
// Each engine call replays every migration into a fresh in-memory PGlite: seconds, not milliseconds.
const ENGINE_TIMEOUT = 180_000;

const PROBE_MODEL = `
model ToolProbe {
  id        String   @id
  label     String
  createdAt DateTime @default(now()) @map("created_at")

  @@map("tool_probe")
}
`;

function runCli(args: string[]) {
  const result = spawnSync(TSX, [CLI, ...args], { encoding: 'utf8', timeout: ENGINE_TIMEOUT });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('migration names', () => {
  it('slugifies names like prisma migrate dev --name', () => {
    expect(migrationSlug('Add certificate')).toBe('add_certificate');
    expect(migrationSlug('addDeliveryReceipt')).toBe('add_delivery_receipt');
    expect(migrationSlug('  Zulassung für Fahrzeuge! ')).toBe('zulassung_fur_fahrzeuge');
    expect(() => migrationSlug('--- ')).toThrow(/no letters or digits/);
  });

  it('stamps directories with the UTC time as YYYYMMDDHHMMSS', () => {
    expect(utcTimestamp(new Date('2026-03-04T05:06:07.890Z'))).toBe('20260304050607');
  });
});

describe('shadow database replay', () => {
  it('fails naming the migration and the PostgreSQL error when a migration does not apply', { timeout: ENGINE_TIMEOUT }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecoc-broken-migration-'));
    try {
      cpSync(DEFAULT_SCHEMA_PATH, join(dir, 'schema.prisma'));
      mkdirSync(join(dir, 'migrations', '20260101000000_broken'), { recursive: true });
      writeFileSync(join(dir, 'migrations', '20260101000000_broken', 'migration.sql'), 'ALTER TABLE "missing_table" ADD COLUMN "x" INTEGER;\n');
      await expect(diffMigrationsToSchema({ migrationsDir: join(dir, 'migrations'), schemaPath: join(dir, 'schema.prisma') })).rejects.toThrow(
        /Migration `20260101000000_broken` failed to apply cleanly to the shadow database[\s\S]*missing_table/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migration tool on a copy of prisma/', () => {
  let workDir: string;
  let schemaPath: string;
  let migrationsDir: string;
  let database: TestDatabase;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'ecoc-migration-tool-'));
    schemaPath = join(workDir, 'schema.prisma');
    migrationsDir = join(workDir, 'migrations');
    cpSync(DEFAULT_SCHEMA_PATH, schemaPath);
    cpSync(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
    appendFileSync(schemaPath, PROBE_MODEL);
    database = await createEmptyDatabase();
  });

  afterAll(async () => {
    await database?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('--check fails naming the table a new model adds', { timeout: ENGINE_TIMEOUT }, () => {
    const result = runCli(['--check', '--schema', schemaPath, '--migrations', migrationsDir]);
    expect(result.stderr).toContain('changed without a migration');
    expect(result.stderr).toMatch(/\[\+\] Added tables[\s\S]*- tool_probe/);
    expect(result.stderr).toContain('npm run db:migration -- <name>');
    expect(result.status).toBe(1);
  });

  it('creates a migration in Prisma layout that brings the migrations in sync', { timeout: ENGINE_TIMEOUT }, async () => {
    const created = await createMigration({ migrationsDir, schemaPath, name: 'Add tool probe' });
    expect(created).not.toBeNull();
    expect(created!.name).toMatch(/^\d{14}_add_tool_probe$/);
    expect(created!.name > migrationNames(migrationsDir).filter((name) => name !== created!.name).at(-1)!).toBe(true);
    expect(created!.sqlPath).toBe(join(migrationsDir, created!.name, 'migration.sql'));
    expect(created!.sql).toContain('CREATE TABLE "tool_probe" (');
    expect(created!.sql).toContain('CONSTRAINT "tool_probe_pkey" PRIMARY KEY ("id")');
    expect(existsSync(join(migrationsDir, 'migration_lock.toml'))).toBe(true);

    expect(await diffMigrationsToSchema({ migrationsDir, schemaPath })).toEqual({ inSync: true, summary: 'No difference detected.' });
  });

  it('says "no changes" and creates nothing when the schema matches the migrations', { timeout: ENGINE_TIMEOUT }, () => {
    const check = runCli(['--check', '--schema', schemaPath, '--migrations', migrationsDir]);
    expect(check.stdout).toContain('is in sync with the migrations');
    expect(check.status).toBe(0);

    const before = readdirSync(migrationsDir).sort();
    const result = runCli(['no_op', '--schema', schemaPath, '--migrations', migrationsDir]);
    expect(result.stdout).toContain('No changes');
    expect(result.status).toBe(0);
    expect(readdirSync(migrationsDir).sort()).toEqual(before);
  });

  it('the created SQL applies to real PostgreSQL, whose history Prisma then reports up to date', { timeout: ENGINE_TIMEOUT }, async () => {
    const names = migrationNames(migrationsDir);
    const applied = await applyMigrations(database.url, undefined, migrationsDir);
    expect(applied.applied).toEqual(names);

    // Prisma's engine reads the applier's _prisma_migrations rows (names, SHA-256 checksums, finished_at) as its own.
    const status = await migrationStatus({ migrationsDir, schemaPath, databaseUrl: database.url });
    expect(status).toEqual({ hasMigrationsTable: true, history: null, failedMigrationNames: [], editedMigrationNames: [], upToDate: true });
    const cli = runCli(['--status', database.url, '--schema', schemaPath, '--migrations', migrationsDir]);
    expect(cli.stdout).toContain('Database schema is up to date.');
    expect(cli.status).toBe(0);
  });

  it('status names a migration edited after it was applied, and one not applied yet', { timeout: ENGINE_TIMEOUT }, async () => {
    const latest = migrationNames(migrationsDir).at(-1)!;
    appendFileSync(join(migrationsDir, latest, 'migration.sql'), '-- edited after release\n');
    mkdirSync(join(migrationsDir, '29991231235959_later'));
    writeFileSync(join(migrationsDir, '29991231235959_later', 'migration.sql'), 'SELECT 1;\n');

    const status = await migrationStatus({ migrationsDir, schemaPath, databaseUrl: database.url });
    expect(status.editedMigrationNames).toEqual([latest]);
    expect(status.history).toEqual({ diagnostic: 'databaseIsBehind', unappliedMigrationNames: ['29991231235959_later'] });
    expect(status.upToDate).toBe(false);
    const cli = runCli(['--status', database.url, '--schema', schemaPath, '--migrations', migrationsDir]);
    expect(cli.stderr).toContain('Database is not up to date');
    expect(cli.stderr).toContain(latest);
    expect(cli.status).toBe(1);
  });
});

function migrationNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
