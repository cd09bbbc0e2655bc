import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.ts';

/** The advisory lock key `prisma migrate deploy` takes, so the two never run at once. */
const PRISMA_ADVISORY_LOCK = 72707369;

export const MIGRATIONS_DIR = new URL('../../prisma/migrations/', import.meta.url).pathname;

export interface LocalMigration {
  name: string;
  sql: string;
  /** Lowercase hex SHA-256 of migration.sql, as Prisma records it. */
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export function readMigrations(dir = MIGRATIONS_DIR): LocalMigration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

/**
 * Applies pending migrations with the same bookkeeping as `prisma migrate deploy`
 * (`_prisma_migrations`, advisory lock, refusal past a failed migration), so stock Prisma tooling
 * sees the database as up to date. Each migration runs in its own transaction.
 */
export async function applyMigrations(databaseUrl: string, logger?: Logger, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum"            VARCHAR(64) NOT NULL,
      "finished_at"         TIMESTAMPTZ,
      "migration_name"      VARCHAR(255) NOT NULL,
      "logs"                TEXT,
      "rolled_back_at"      TIMESTAMPTZ,
      "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at',
    );
    const failed = rows.find((row) => row.finished_at === null);
    if (failed) {
      throw new MigrationError(
        `Migration ${failed.migration_name} failed earlier and was not resolved; nothing was applied. ` +
          `Fix it, then mark it rolled back (\`npx prisma migrate resolve --rolled-back ${failed.migration_name}\`, ` +
          `or set rolled_back_at in _prisma_migrations) and start again.`,
      );
    }
    const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
    const local = new Set(migrations.map((m) => m.name));
    for (const name of applied.keys()) {
      if (!local.has(name)) logger?.warn({ migration: name }, 'migration applied to the database is missing locally');
    }
    const edited = migrations.filter((m) => applied.has(m.name) && applied.get(m.name) !== m.checksum);
    if (edited.length > 0) {
      throw new MigrationError(
        `Applied migrations were edited afterwards (checksum differs from the database record): ${edited
          .map((m) => m.name)
          .join(', ')}. Restore the original migration.sql and put the change in a new migration.`,
      );
    }
    const result: MigrationResult = { applied: [], alreadyApplied: migrations.filter((m) => applied.has(m.name)).map((m) => m.name) };
    for (const migration of migrations.filter((m) => !applied.has(m.name))) {
      await applyOne(client, migration);
      logger?.info({ migration: migration.name }, 'migration applied');
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
    await client.end();
  }
}

async function applyOne(client: pg.Client, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  await client.query(
    'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query('BEGIN');
    await client.query(migration.sql);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const message = (error as Error).message;
    await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
    throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${message}`);
  }
}
