import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../schemas/config/index.ts';
import { applyMigrations } from './database/migrate.ts';
import { startEmbeddedPostgres } from './database/embedded-postgres.ts';
import type { Logger } from './logger.ts';
import { resolveTemporalCli } from './temporal/cli-binary.ts';
import { startDevServer } from './temporal/dev-server.ts';
import { registerSearchAttributes } from './temporal/search-attributes.ts';

export interface Infrastructure {
  temporalAddress: string;
  temporalUiUrl?: string | undefined;
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * The servers the app needs: the configured ones when TEMPORAL_ADDRESS / DATABASE_URL are set,
 * otherwise an embedded Temporal dev server and PostgreSQL persisting under ECOC_DATA_DIR.
 */
export async function startInfrastructure(config: Config, logger: Logger): Promise<Infrastructure> {
  const dataDir = resolve(config.ECOC_DATA_DIR);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  };
  try {
    const temporal: { address: string; uiUrl?: string | undefined; stop?: () => Promise<void> } = config.TEMPORAL_ADDRESS
      ? await ensureSearchAttributes(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, logger)
      : await startDevServer({
          executable: await resolveTemporalCli({ explicitPath: config.TEMPORAL_CLI_PATH, logger: logger.child({ component: 'temporal-cli' }) }),
          port: config.ECOC_TEMPORAL_PORT,
          uiPort: config.ECOC_TEMPORAL_UI_PORT,
          namespace: config.TEMPORAL_NAMESPACE,
          dbFilename: join(dataDir, 'temporal', 'temporal.db'),
          logger: logger.child({ component: 'temporal' }),
        });
    if (temporal.stop) stops.push(temporal.stop);

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const postgres = await startEmbeddedPostgres({
        dir: join(dataDir, 'postgres'),
        port: config.ECOC_POSTGRES_PORT,
        database: 'ecoc',
        logger: logger.child({ component: 'postgres' }),
      });
      stops.push(postgres.stop);
      databaseUrl = postgres.url;
    }
    const migrations = await applyMigrations(databaseUrl, logger.child({ component: 'migrate' }));
    logger.info({ applied: migrations.applied.length, upToDate: migrations.alreadyApplied.length }, 'database schema up to date');
    return { temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, databaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** On a server the app did not start, register the app's search attributes (idempotent). */
export async function ensureSearchAttributes(address: string, namespace: string, logger: Logger): Promise<{ address: string }> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 }).catch((error: unknown) => {
    throw new Error(`TEMPORAL_ADDRESS=${address} is not reachable: ${(error as Error).message}`);
  });
  try {
    const added = await registerSearchAttributes(connection, namespace);
    logger.info({ address, namespace, registered: added }, 'using external Temporal server');
  } finally {
    await connection.close();
  }
  return { address };
}
