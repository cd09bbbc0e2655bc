import { join, resolve } from 'node:path';
import type { Config } from '../schemas/config/index.ts';
import { startEmbeddedPostgres } from './database/embedded-postgres.ts';
import { prepareDatabase } from './database/roles.ts';
import { startEmbeddedDestinations } from './embedded-destinations.ts';
import type { Logger } from './logger.ts';
import { advisory, type ReadinessProbe } from './readiness.ts';
import { resolveTemporalCli } from './temporal/cli-binary.ts';
import { connectTemporalClient, describeTemporalConnection, temporalConnectionOptions } from './temporal/connection.ts';
import { devServerPidFile, startDevServer } from './temporal/dev-server.ts';
import { registerSearchAttributes } from './temporal/search-attributes.ts';
import { stopLeftoverServer, supervise } from './supervisor.ts';

export interface Infrastructure {
  temporalAddress: string;
  temporalUiUrl?: string | undefined;
  /** The app's connection (a role that owns nothing); the owner's is used only for migrations here. */
  databaseUrl: string;
  /** The destinations file the stack delivers by: ECOC_DESTINATIONS_FILE, or the embedded destinations' own. */
  destinationsFile?: string | undefined;
  /** Readiness of embedded parts the API reports on (the NAP simulator). */
  readinessProbes: Record<string, ReadinessProbe>;
  stop(): Promise<void>;
}

/**
 * The servers the app needs: the configured ones when TEMPORAL_ADDRESS / DATABASE_URL are set,
 * otherwise an embedded Temporal dev server and PostgreSQL persisting under ECOC_DATA_DIR. The
 * database is migrated as its owner (the embedded `ecoc_owner`, or ECOC_DATABASE_OWNER_URL), and
 * the app gets the URL of a role that owns nothing (platform/database/roles.ts). Without
 * ECOC_DESTINATIONS_FILE it also starts the embedded destinations (platform/embedded-destinations.ts).
 */
export async function startInfrastructure(config: Config, logger: Logger): Promise<Infrastructure> {
  const dataDir = resolve(config.ECOC_DATA_DIR);
  await stopLeftoverServers(config, logger);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  };
  // No destinations configured: a NAP simulator and an archive folder, so certificates can be
  // delivered. Started alongside the servers (its process takes seconds to come up); a failure is
  // handled where it is awaited below.
  const embeddedDestinations = config.ECOC_DESTINATIONS_FILE ? undefined : startEmbeddedDestinations({ dataDir, port: config.ECOC_NAP_SIMULATOR_PORT, logger });
  embeddedDestinations?.catch(() => undefined);
  try {
    const temporal: { address: string; uiUrl?: string | undefined; stop?: () => Promise<void> } = config.TEMPORAL_ADDRESS
      ? await ensureSearchAttributes(config, logger)
      : await startDevServer({
          executable: await resolveTemporalCli({ explicitPath: config.TEMPORAL_CLI_PATH, logger: logger.child({ component: 'temporal-cli' }) }),
          port: config.ECOC_TEMPORAL_PORT,
          uiPort: config.ECOC_TEMPORAL_UI_PORT,
          namespace: config.TEMPORAL_NAMESPACE,
          dbFilename: temporalDbFilename(dataDir),
          logger: logger.child({ component: 'temporal' }),
        });
    if (temporal.stop) stops.push(temporal.stop);

    let databaseUrl = config.DATABASE_URL;
    let ownerUrl = config.ECOC_DATABASE_OWNER_URL;
    if (!databaseUrl) {
      if (ownerUrl) throw new Error('ECOC_DATABASE_OWNER_URL is set but DATABASE_URL is not: give both for your own PostgreSQL, or neither for the embedded one.');
      const postgres = await startEmbeddedPostgres({
        dir: join(dataDir, 'postgres'),
        port: config.ECOC_POSTGRES_PORT,
        database: 'ecoc',
        logger: logger.child({ component: 'postgres' }),
      });
      const supervisor = supervise({ what: 'embedded PostgreSQL', child: postgres.child, restart: postgres.restart }, logger.child({ component: 'supervisor' }));
      stops.push(async () => {
        supervisor.stop();
        await postgres.stop();
      });
      databaseUrl = postgres.url;
      ownerUrl = postgres.ownerUrl;
    }
    await prepareDatabase({ appUrl: databaseUrl, ownerUrl, logger });

    let destinationsFile = config.ECOC_DESTINATIONS_FILE;
    const readinessProbes: Record<string, ReadinessProbe> = {};
    if (embeddedDestinations) {
      const embedded = await embeddedDestinations;
      stops.push(embedded.stop);
      destinationsFile = embedded.file;
      readinessProbes.destinations = advisory(embedded.probe);
    }
    return { temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, databaseUrl, destinationsFile, readinessProbes, stop };
  } catch (error) {
    // The simulator may have come up while another server failed: it stops with the rest.
    await embeddedDestinations?.then((embedded) => (stops.includes(embedded.stop) ? undefined : embedded.stop()), () => undefined);
    await stop();
    throw error;
  }
}

/**
 * The embedded servers an earlier `npm start` of this data directory left running when it was
 * SIGKILLed (nothing could stop them), stopped so this start can take their ports: PostgreSQL by
 * its own `postmaster.pid` (SIGINT: fast shutdown), the Temporal dev server and the NAP simulator
 * by the pid files they keep next to their data. Called before any port is checked.
 */
export async function stopLeftoverServers(config: Config, logger: Logger): Promise<void> {
  const dataDir = resolve(config.ECOC_DATA_DIR);
  const log = logger.child({ component: 'supervisor' });
  if (!config.DATABASE_URL) {
    const clusterDir = join(dataDir, 'postgres', 'cluster');
    await stopLeftoverServer({ pidFile: join(clusterDir, 'postmaster.pid'), ownMarker: clusterDir, what: 'embedded PostgreSQL', signal: 'SIGINT', logger: log });
  }
  if (!config.TEMPORAL_ADDRESS) {
    const dbFilename = temporalDbFilename(dataDir);
    await stopLeftoverServer({ pidFile: devServerPidFile(dbFilename), ownMarker: dbFilename, what: 'Temporal dev server', signal: 'SIGTERM', logger: log });
  }
  if (!config.ECOC_DESTINATIONS_FILE) {
    // The embedded NAP simulator keeps its pid in its state directory (platform/embedded-destinations.ts).
    const stateDir = join(dataDir, 'nap-simulator', 'state');
    await stopLeftoverServer({ pidFile: join(stateDir, 'server.pid'), ownMarker: stateDir, what: 'embedded NAP simulator', signal: 'SIGTERM', logger: log });
  }
}

const temporalDbFilename = (dataDir: string) => join(dataDir, 'temporal', 'temporal.db');

/** On a server the app did not start, register the app's search attributes (idempotent). */
export async function ensureSearchAttributes(config: Config, logger: Logger): Promise<{ address: string }> {
  const options = temporalConnectionOptions(config);
  const namespace = config.TEMPORAL_NAMESPACE;
  const connection = await connectTemporalClient(options, 10_000);
  try {
    const added = await registerSearchAttributes(connection, namespace);
    logger.info({ temporal: describeTemporalConnection(options), namespace, registered: added }, 'using external Temporal server');
  } finally {
    await connection.close();
  }
  return { address: options.address };
}
