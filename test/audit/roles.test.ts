import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recordAudit } from '../../audit/chain.ts';
import { EMBEDDED_APP_ROLE, EMBEDDED_OWNER_ROLE, startEmbeddedPostgres } from '../../platform/database/embedded-postgres.ts';
import { applyMigrations } from '../../platform/database/migrate.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import { appRoleProblems, prepareDatabase } from '../../platform/database/roles.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

const logger = createLogger('silent');

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe('the app role', () => {
  let database: TestDatabase;
  let db: Database;
  let app: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDatabase(database.url);
    await recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: 'rita', action: 'api:approve', certificateId: null, detail: {} }]);
    app = new pg.Client({ connectionString: database.url });
    await app.connect();
  });
  afterAll(async () => {
    await app?.end();
    await db?.$disconnect();
    await database?.drop();
  });

  test('tests and the stack connect as ecoc_app, a plain role that is not the owner', async () => {
    const [role] = (await app.query<{ current_user: string; rolsuper: boolean; rolcreaterole: boolean; rolbypassrls: boolean }>(
      'SELECT current_user, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    )).rows;
    expect(role).toEqual({ current_user: EMBEDDED_APP_ROLE, rolsuper: false, rolcreaterole: false, rolbypassrls: false });
    const [owner] = await query<{ owner: string }>(database.adminUrl, `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'audit_record'`);
    expect(owner!.owner).toBe(EMBEDDED_OWNER_ROLE);
  });

  test('owns nothing: no database, schema, table, sequence or function of the app is its own', async () => {
    const owned = await query<{ name: string }>(
      database.adminUrl,
      `SELECT relname AS name FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = $1)
       UNION ALL SELECT proname FROM pg_proc WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = $1)
       UNION ALL SELECT nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = $1)
       UNION ALL SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
      [EMBEDDED_APP_ROLE],
    );
    expect(owned).toEqual([]);
    expect(await appRoleProblems(database.url)).toEqual([]);
  });

  test('may only INSERT and SELECT audit records: UPDATE, DELETE and TRUNCATE are refused by privilege', async () => {
    const rights = await app.query<Record<string, boolean>>(
      `SELECT ${['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']
        .flatMap((right) => ['audit_record', 'audit_checkpoint'].map((table) => `has_table_privilege('${table}', '${right}') AS "${table} ${right}"`))
        .join(', ')}`,
    );
    expect(rights.rows[0]).toEqual({
      'audit_record SELECT': true,
      'audit_checkpoint SELECT': true,
      'audit_record INSERT': true,
      'audit_checkpoint INSERT': true,
      'audit_record UPDATE': false,
      'audit_checkpoint UPDATE': false,
      'audit_record DELETE': false,
      'audit_checkpoint DELETE': false,
      'audit_record TRUNCATE': false,
      'audit_checkpoint TRUNCATE': false,
    });
    await expect(app.query(`UPDATE audit_record SET actor = 'mallory'`)).rejects.toThrow(/permission denied for table audit_record/);
    await expect(app.query('DELETE FROM audit_record')).rejects.toThrow(/permission denied for table audit_record/);
    await expect(app.query('TRUNCATE audit_record')).rejects.toThrow(/permission denied for table audit_record/);
    // The data tables are the app's to change, but never to redefine.
    await expect(app.query(`UPDATE manufacturer SET name = name`)).resolves.toBeDefined();
    await expect(app.query('ALTER TABLE manufacturer ADD COLUMN x int')).rejects.toThrow(/must be owner of table manufacturer/);
    await expect(app.query('CREATE TABLE mine (id int)')).rejects.toThrow(/permission denied for schema public/);
  });

  test('cannot switch the append-only triggers off, nor skip them with session_replication_role', async () => {
    await expect(app.query('ALTER TABLE audit_record DISABLE TRIGGER audit_record_no_update_delete')).rejects.toThrow(/must be owner of table audit_record/);
    await expect(app.query('ALTER TABLE audit_record DISABLE TRIGGER USER')).rejects.toThrow(/must be owner of table audit_record/);
    await expect(app.query('ALTER TABLE audit_checkpoint DISABLE TRIGGER ALL')).rejects.toThrow(/must be owner of table audit_checkpoint/);
    await expect(app.query('SET session_replication_role = replica')).rejects.toThrow(/permission denied to set parameter "session_replication_role"/);
    await expect(app.query('DROP TRIGGER audit_record_no_update_delete ON audit_record')).rejects.toThrow(/must be owner of (table|relation) audit_record/);
    await expect(app.query(`SET ROLE ${EMBEDDED_OWNER_ROLE}`)).rejects.toThrow(/permission denied to set role/);
  });
});

describe('start-up checks of the two URLs', () => {
  test('with ECOC_DATABASE_OWNER_URL, a DATABASE_URL that logs in as a superuser is refused, naming why', async () => {
    const database = await createTestDatabase();
    try {
      await expect(prepareDatabase({ appUrl: database.adminUrl, ownerUrl: database.ownerUrl, logger })).rejects.toThrow(/DATABASE_URL must log in as a role that owns nothing[\s\S]*postgres is a superuser/);
      await expect(prepareDatabase({ appUrl: database.ownerUrl.replace('/ecoc_test', '/other'), ownerUrl: database.ownerUrl, logger })).rejects.toThrow(/must name the same database/);
      await expect(prepareDatabase({ appUrl: database.ownerUrl, ownerUrl: database.ownerUrl, logger })).rejects.toThrow(/both log in as ecoc_owner/);
      await expect(prepareDatabase({ appUrl: database.url, ownerUrl: database.ownerUrl, logger })).resolves.toEqual({ mode: 'roles' });
    } finally {
      await database.drop();
    }
  });

  test('with DATABASE_URL alone: an app role is not migrated with (pending migrations stop start-up); the schema owner is, with a warning', async () => {
    const empty = await createEmptyDatabase();
    try {
      await expect(prepareDatabase({ appUrl: empty.appUrl, logger })).rejects.toThrow(/lacks \d+ migration\(s\)[\s\S]*owns nothing, so it cannot apply them[\s\S]*ECOC_DATABASE_OWNER_URL/);
      const warnings: string[] = [];
      const recording = createLogger('warn');
      recording.warn = ((payload: unknown, message?: string) => warnings.push(message ?? String(payload))) as typeof recording.warn;
      await expect(prepareDatabase({ appUrl: empty.ownerUrl, logger: recording })).resolves.toEqual({ mode: 'single-role' });
      expect(warnings.join('\n')).toMatch(/detected but not prevented/);
    } finally {
      await empty.drop();
    }
  });
});

describe('embedded PostgreSQL', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecoc-roles-'));
    chmodSync(dir, 0o755); // PostgreSQL runs as user postgres when the tests run as root
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('creates the owner and app roles, and hands a cluster from before separate roles over to the owner', async () => {
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dir, port, database: 'ecoc', logger });
    try {
      // An installation from before: the superuser migrated and owns everything.
      await applyMigrations(first.adminUrl);
      await query(first.adminUrl, `ALTER DATABASE ecoc OWNER TO postgres`);
    } finally {
      await first.stop();
    }
    const second = await startEmbeddedPostgres({ dir, port, database: 'ecoc', logger });
    try {
      const owners = await query<{ owner: string; n: string }>(
        second.adminUrl,
        `SELECT pg_get_userbyid(relowner) AS owner, count(*)::text AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = 'public' GROUP BY 1 ORDER BY 1`,
      );
      expect(owners.map((row) => row.owner)).toEqual([EMBEDDED_OWNER_ROLE]);
      expect(new URL(second.url).username).toBe(EMBEDDED_APP_ROLE);
      expect(new URL(second.ownerUrl).username).toBe(EMBEDDED_OWNER_ROLE);
      await expect(prepareDatabase({ appUrl: second.url, ownerUrl: second.ownerUrl, logger })).resolves.toEqual({ mode: 'roles' });
      expect(await appRoleProblems(second.url)).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
