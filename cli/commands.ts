import type { Command } from 'commander';
import { loadConfig } from '../platform/config.ts';
import { ensureSearchAttributes, startInfrastructure, stopLeftoverServers } from '../platform/infrastructure.ts';
import { startApplication } from '../platform/application.ts';
import { EMBEDDED_ARCHIVE_ID, EMBEDDED_NAP_ID } from '../platform/embedded-destinations.ts';
import { createLogger } from '../platform/logger.ts';
import { applyMigrations } from '../platform/database/migrate.ts';
import { ensureAppRoleExists, grantAppRole, prepareDatabase, roleOf } from '../platform/database/roles.ts';
import { resolveTemporalCli } from '../platform/temporal/cli-binary.ts';
import { stopOnSignals } from '../platform/shutdown.ts';
import { assertPortsFree } from '../platform/ports.ts';

/** `start`, `worker`, `api`: run the stack or one of its roles until SIGINT/SIGTERM. */
export function registerRunCommands(program: Command): void {
  program
    .command('start')
    .description('Start the whole stack: Temporal dev server (with UI), PostgreSQL, migrations, worker and API (embedded unless TEMPORAL_ADDRESS / DATABASE_URL are set)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.ECOC_LOG_LEVEL);
      if (config.ECOC_WORKER_OPS_PORT !== 0 && config.ECOC_WORKER_OPS_PORT === config.ECOC_API_PORT) {
        throw new Error(`ECOC_WORKER_OPS_PORT and ECOC_API_PORT are both ${config.ECOC_API_PORT}: the worker's operations port and the API need one port each`);
      }
      // A SIGKILLed earlier start's servers hold our ports: stop them first, then check every port
      // up front, so a busy one stops us before anything is started.
      await stopLeftoverServers(config, logger);
      await assertPortsFree([
        ...(config.TEMPORAL_ADDRESS
          ? []
          : [
              { port: config.ECOC_TEMPORAL_PORT, purpose: 'Temporal frontend (ECOC_TEMPORAL_PORT)' },
              { port: config.ECOC_TEMPORAL_UI_PORT, purpose: 'Temporal Web UI (ECOC_TEMPORAL_UI_PORT)' },
            ]),
        ...(config.DATABASE_URL ? [] : [{ port: config.ECOC_POSTGRES_PORT, purpose: 'embedded PostgreSQL (ECOC_POSTGRES_PORT)' }]),
        { port: config.ECOC_API_PORT, host: config.ECOC_API_HOST, purpose: 'API (ECOC_API_PORT)' },
        { port: config.ECOC_WORKER_OPS_PORT, host: config.ECOC_WORKER_OPS_HOST, purpose: 'worker operations (ECOC_WORKER_OPS_PORT)' },
        ...(config.ECOC_DESTINATIONS_FILE ? [] : [{ port: config.ECOC_NAP_SIMULATOR_PORT, purpose: 'embedded NAP simulator (ECOC_NAP_SIMULATOR_PORT)' }]),
      ]);
      const infrastructure = await startInfrastructure(config, logger);
      // The embedded destinations come as a destinations file: the rest of the stack reads it as a configured one.
      const stackConfig = { ...config, ECOC_DESTINATIONS_FILE: infrastructure.destinationsFile };
      const application = await startApplication(stackConfig, infrastructure, logger, { worker: true, api: true }).catch(async (error: unknown) => {
        await infrastructure.stop();
        throw error;
      });
      stopOnSignals(async () => {
        await application.stop();
        await infrastructure.stop();
      }, logger);
      logger.info(
        {
          api: application.api?.url,
          temporalUi: infrastructure.temporalUiUrl ?? 'external server',
          temporal: infrastructure.temporalAddress,
          destinations: config.ECOC_DESTINATIONS_FILE ? `configured (${config.ECOC_DESTINATIONS_FILE})` : `embedded: ${EMBEDDED_NAP_ID} (NAP simulator, not a real NAP), ${EMBEDDED_ARCHIVE_ID} (folder)`,
        },
        'ecoc-hub is running (Ctrl-C stops everything)',
      );
    });

  for (const role of ['worker', 'api'] as const) {
    program
      .command(role)
      .description(`Run only the ${role} against TEMPORAL_ADDRESS and DATABASE_URL (production topology)`)
      .action(async () => {
        const config = loadConfig();
        const logger = createLogger(config.ECOC_LOG_LEVEL);
        if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) {
          throw new Error(`ecoc ${role} needs TEMPORAL_ADDRESS and DATABASE_URL; use \`ecoc start\` for the embedded stack`);
        }
        // Migrates only with ECOC_DATABASE_OWNER_URL (or a DATABASE_URL that owns the schema, with a warning).
        await prepareDatabase({ appUrl: config.DATABASE_URL, ownerUrl: config.ECOC_DATABASE_OWNER_URL, logger });
        if (role === 'worker') await ensureSearchAttributes(config, logger);
        const application = await startApplication(
          config,
          { temporalAddress: config.TEMPORAL_ADDRESS, databaseUrl: config.DATABASE_URL },
          logger,
          { worker: role === 'worker', api: role === 'api' },
        );
        stopOnSignals(application.stop, logger);
      });
  }

  program
    .command('migrate')
    .description('Apply pending database migrations as the owner (ECOC_DATABASE_OWNER_URL, else DATABASE_URL) and grant the app role (DATABASE_URL) its rights')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.ECOC_LOG_LEVEL);
      const ownerUrl = config.ECOC_DATABASE_OWNER_URL ?? config.DATABASE_URL;
      if (!ownerUrl) throw new Error('set ECOC_DATABASE_OWNER_URL (the schema owner) and DATABASE_URL (the app role)');
      const appUrl = config.ECOC_DATABASE_OWNER_URL ? config.DATABASE_URL : undefined;
      if (appUrl) await ensureAppRoleExists(ownerUrl, appUrl, logger);
      const result = await applyMigrations(ownerUrl, logger);
      if (appUrl) await grantAppRole(ownerUrl, roleOf(appUrl));
      console.log(`applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} already applied${appUrl ? `; app role ${roleOf(appUrl)} granted` : ''}`);
    });

  program
    .command('temporal-cli')
    .description('Print the path of the Temporal CLI, building or downloading it if needed')
    .action(async () => {
      const config = loadConfig();
      // Logs go to stderr: stdout carries only the path, for scripts.
      console.log(await resolveTemporalCli({ explicitPath: config.TEMPORAL_CLI_PATH, logger: createLogger(config.ECOC_LOG_LEVEL, 2) }));
    });
}
