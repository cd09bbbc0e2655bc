import pg from 'pg';
import type { Logger } from '../logger.ts';
import { applyMigrations, readMigrations } from './migrate.ts';

/**
 * Two database roles. The **owner** owns the schema and applies migrations; its credentials are
 * used for nothing else. The **app** (worker, API, CLI) owns nothing: it has SELECT, INSERT,
 * UPDATE and DELETE on the data tables, only SELECT and INSERT on the audit tables, and only
 * SELECT on the migration history. Not owning the audit tables, it can neither switch their
 * append-only triggers off nor change or remove an audit record; only a superuser can set
 * `session_replication_role` (which skips triggers), and MACs, checkpoints and the witness are
 * what detect a superuser's changes.
 */
export const AUDIT_TABLES = ['audit_record', 'audit_checkpoint'] as const;
const MIGRATION_TABLE = '_prisma_migrations';

export class DatabaseRoleError extends Error {
  override name = 'DatabaseRoleError';
}

/** The role a connection URL logs in as. */
export function roleOf(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

/** One short-lived connection for administrative statements. */
export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * As the owner: gives the app role exactly what it needs on every table of the `public` schema
 * (run after each migration, so new tables are covered), and takes everything else away.
 */
export async function grantAppRole(ownerUrl: string, appRole: string): Promise<void> {
  const app = pg.escapeIdentifier(appRole);
  const protectedTables = [...AUDIT_TABLES, MIGRATION_TABLE].map((table) => pg.escapeIdentifier(table)).join(', ');
  await withClient(ownerUrl, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query(`GRANT USAGE ON SCHEMA public TO ${app}`);
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${app}`);
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`);
      await client.query(`REVOKE ALL ON ${protectedTables} FROM ${app}`);
      await client.query(`GRANT SELECT, INSERT ON ${AUDIT_TABLES.map((table) => pg.escapeIdentifier(table)).join(', ')} TO ${app}`);
      await client.query(`GRANT SELECT ON ${pg.escapeIdentifier(MIGRATION_TABLE)} TO ${app}`);
      await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${app}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new DatabaseRoleError(`Granting the app role ${appRole} its rights as the owner failed: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** What the app role could do beyond its job; any entry is a reason to refuse it as the app's role. */
export async function appRoleProblems(appUrl: string): Promise<string[]> {
  return withClient(appUrl, async (client) => {
    const problems: string[] = [];
    const role = (await client.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolbypassrls: boolean }>(
      'SELECT rolname, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    )).rows[0]!;
    if (role.rolsuper) problems.push(`${role.rolname} is a superuser`);
    if (role.rolcreaterole) problems.push(`${role.rolname} may create roles (CREATEROLE), and so make itself more powerful`);
    if (role.rolbypassrls) problems.push(`${role.rolname} bypasses row-level security (BYPASSRLS)`);
    const owned = await client.query<{ kind: string; name: string }>(`
      SELECT 'database' AS kind, datname AS name FROM pg_database WHERE datname = current_database() AND pg_has_role(current_user, datdba, 'MEMBER')
      UNION ALL SELECT 'schema', nspname FROM pg_namespace WHERE nspname = 'public' AND pg_has_role(current_user, nspowner, 'MEMBER')
      UNION ALL SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' ELSE 'table' END, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND pg_has_role(current_user, c.relowner, 'MEMBER')
      UNION ALL SELECT 'function', p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_has_role(current_user, p.proowner, 'MEMBER')
      ORDER BY 1, 2`);
    if (owned.rowCount) {
      const names = owned.rows.slice(0, 8).map((row) => `${row.kind} ${row.name}`);
      problems.push(`${role.rolname} owns (or may act as the owner of) ${owned.rowCount} object(s): ${names.join(', ')}${owned.rowCount > 8 ? ', …' : ''}; an owner can switch the audit triggers off`);
    }
    for (const table of AUDIT_TABLES) {
      const rights = await client.query<{ exists: boolean; update: boolean; delete: boolean; truncate: boolean }>(
        `SELECT to_regclass($1) IS NOT NULL AS exists,
                to_regclass($1) IS NOT NULL AND has_table_privilege($1, 'UPDATE') AS update,
                to_regclass($1) IS NOT NULL AND has_table_privilege($1, 'DELETE') AS delete,
                to_regclass($1) IS NOT NULL AND has_table_privilege($1, 'TRUNCATE') AS truncate`,
        [`public.${table}`],
      );
      const granted = Object.entries(rights.rows[0]!).filter(([name, value]) => name !== 'exists' && value).map(([name]) => name.toUpperCase());
      if (granted.length) problems.push(`${role.rolname} holds ${granted.join(', ')} on ${table} (only INSERT and SELECT belong to the app)`);
    }
    const replication = await client.query<{ allowed: boolean }>(
      `SELECT CASE WHEN current_setting('server_version_num')::int >= 150000 THEN has_parameter_privilege('session_replication_role', 'SET') ELSE false END AS allowed`,
    );
    if (replication.rows[0]!.allowed && !role.rolsuper) problems.push(`${role.rolname} may set session_replication_role, which skips the audit triggers`);
    return problems;
  });
}

/** Migrations not applied to the database, as the app role sees the history (it may read it). */
export async function pendingMigrations(url: string): Promise<string[]> {
  const applied = await withClient(url, async (client) => {
    const exists = (await client.query<{ exists: boolean }>(`SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS exists`)).rows[0]!.exists;
    if (!exists) return new Set<string>();
    const rows = await client.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
    return new Set(rows.rows.map((row) => row.migration_name));
  });
  return readMigrations()
    .map((migration) => migration.name)
    .filter((name) => !applied.has(name));
}

export interface PreparedDatabase {
  /** `roles`: migrated as the owner, app role checked; `single-role`: DATABASE_URL owns the schema (warned). */
  mode: 'roles' | 'single-role' | 'app-only';
}

/**
 * Makes the database ready for the app before it starts:
 * - with an owner URL: applies migrations and grants as the owner, then refuses to go on if the
 *   app role could do more than its job (superuser, owns something, may change audit rows);
 * - with the app URL alone, for a role that owns nothing: applies nothing, but refuses to start
 *   while migrations are pending (they need the owner: ECOC_DATABASE_OWNER_URL, `ecoc migrate`);
 * - with the app URL alone, for a role that owns the schema or is a superuser (the setup before
 *   separate roles): migrates with it as before and warns that this role can switch the audit
 *   triggers off, so tampering is then only detected (MACs, checkpoints, witness), not prevented.
 */
export async function prepareDatabase(options: { appUrl: string; ownerUrl?: string | undefined; logger: Logger }): Promise<PreparedDatabase> {
  const { appUrl, ownerUrl, logger } = options;
  if (ownerUrl) {
    assertSameDatabase(appUrl, ownerUrl);
    const migrations = await applyMigrations(ownerUrl, logger.child({ component: 'migrate' }));
    logger.info({ applied: migrations.applied.length, upToDate: migrations.alreadyApplied.length, owner: roleOf(ownerUrl) }, 'database schema up to date');
    await grantAppRole(ownerUrl, roleOf(appUrl));
    const problems = await appRoleProblems(appUrl);
    if (problems.length) {
      throw new DatabaseRoleError(
        `DATABASE_URL must log in as a role that owns nothing and may not change audit records, but:\n  - ${problems.join('\n  - ')}\n` +
          `Create a plain role for the app (CREATE ROLE ecoc_app LOGIN PASSWORD '…' NOSUPERUSER NOCREATEROLE) and put it in DATABASE_URL; ` +
          `keep the owner in ECOC_DATABASE_OWNER_URL. The owner grants the app role its rights at every start.`,
      );
    }
    logger.info({ app: roleOf(appUrl), owner: roleOf(ownerUrl) }, 'app connects as a role that owns nothing');
    return { mode: 'roles' };
  }
  const problems = await appRoleProblems(appUrl);
  if (problems.length) {
    const migrations = await applyMigrations(appUrl, logger.child({ component: 'migrate' }));
    logger.info({ applied: migrations.applied.length, upToDate: migrations.alreadyApplied.length }, 'database schema up to date');
    logger.warn(
      { role: roleOf(appUrl), problems },
      'DATABASE_URL logs in as the schema owner or a superuser, which can switch the audit triggers off: tampering with the audit trail is then detected but not prevented. ' +
        'Set ECOC_DATABASE_OWNER_URL to the owner and DATABASE_URL to a role that owns nothing (see README, "Using your own servers").',
    );
    return { mode: 'single-role' };
  }
  const pending = await pendingMigrations(appUrl);
  if (pending.length) {
    throw new DatabaseRoleError(
      `The database lacks ${pending.length} migration(s) (${pending.join(', ')}), and DATABASE_URL's role ${roleOf(appUrl)} owns nothing, so it cannot apply them. ` +
        'Set ECOC_DATABASE_OWNER_URL to the schema owner (or run `ecoc migrate` with it) and start again.',
    );
  }
  return { mode: 'app-only' };
}

function assertSameDatabase(appUrl: string, ownerUrl: string): void {
  const app = new URL(appUrl);
  const owner = new URL(ownerUrl);
  const where = (url: URL) => `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  if (where(app) !== where(owner)) {
    throw new DatabaseRoleError(`ECOC_DATABASE_OWNER_URL (${where(owner)}) and DATABASE_URL (${where(app)}) must name the same database.`);
  }
  if (roleOf(appUrl) === roleOf(ownerUrl)) {
    throw new DatabaseRoleError(`ECOC_DATABASE_OWNER_URL and DATABASE_URL both log in as ${roleOf(appUrl)}; the app needs its own role that owns nothing.`);
  }
}

/**
 * For `ecoc migrate` with both URLs: creates the app role from DATABASE_URL's name and password
 * when it does not exist yet and the owner may create roles (e.g. a fresh docker-compose setup).
 */
export async function ensureAppRoleExists(ownerUrl: string, appUrl: string, logger: Logger): Promise<void> {
  const role = roleOf(appUrl);
  const password = decodeURIComponent(new URL(appUrl).password);
  await withClient(ownerUrl, async (client) => {
    const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount;
    if (exists) return;
    const may = (await client.query<{ may: boolean }>('SELECT rolsuper OR rolcreaterole AS may FROM pg_roles WHERE rolname = current_user')).rows[0]!.may;
    if (!may) throw new DatabaseRoleError(`The app role ${role} (DATABASE_URL) does not exist and ${roleOf(ownerUrl)} may not create it; create it: CREATE ROLE ${role} LOGIN PASSWORD '…'`);
    await client.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD ${pg.escapeLiteral(password)}`);
    logger.info({ role }, 'created the app role');
  });
}
