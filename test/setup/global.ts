import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { resolveTemporalCli } from '../../platform/temporal/cli-binary.ts';
import { startDevServer } from '../../platform/temporal/dev-server.ts';
import { EMBEDDED_OWNER_ROLE, startEmbeddedPostgres } from '../../platform/database/embedded-postgres.ts';
import { prepareDatabase } from '../../platform/database/roles.ts';
import { bundleWorkflows } from '../../platform/temporal/bundle.ts';
import { TEMPLATE_DATABASE } from '../support/database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    /** Superuser URL of the run's PostgreSQL, on the `postgres` database. */
    postgresAdminUrl: string;
    /** The schema owner's and the app's URLs (roles `ecoc_owner`, `ecoc_app`) on the template database. */
    postgresOwnerUrl: string;
    postgresAppUrl: string;
    postgresOwnerRole: string;
    /** A pre-bundled workflow bundle, so each test's Worker skips webpack. */
    workflowBundlePath: string;
  }
}

/**
 * One real Temporal dev server and one real PostgreSQL for the whole run (one server avoids
 * start-up races between files); each test file gets its own database and task queue.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger(process.env.ECOC_TEST_LOG_LEVEL ?? 'warn');
  const workDir = mkdtempSync(join(tmpdir(), 'ecoc-test-'));
  chmodSync(workDir, 0o755); // PostgreSQL runs as user postgres when the tests run as root
  const temporalCliPath = await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, logger });
  const started = await Promise.allSettled([
    startDevServer({
      executable: temporalCliPath,
      port: await freePort(),
      namespace: 'default',
      logger: logger.child({ component: 'temporal' }),
      readyTimeoutMs: 120_000,
    }),
    startEmbeddedPostgres({ dir: join(workDir, 'postgres'), port: await freePort(), database: TEMPLATE_DATABASE, logger: logger.child({ component: 'postgres' }) }),
    // The production bundle (`npm run build` makes the same), tracing interceptors included.
    bundleWorkflows(logger),
  ]);
  const teardown = async () => {
    await Promise.allSettled(started.map((result) => (result.status === 'fulfilled' && typeof result.value === 'object' && 'stop' in result.value ? result.value.stop() : undefined)));
    rmSync(workDir, { recursive: true, force: true });
  };
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await teardown();
    throw failure.reason;
  }
  const [temporal, postgres, bundle] = started.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof startDevServer>>,
    Awaited<ReturnType<typeof startEmbeddedPostgres>>,
    string,
  ];
  // As `npm start` does: migrated and granted as the owner; every test then runs as the app role.
  await prepareDatabase({ appUrl: postgres.url, ownerUrl: postgres.ownerUrl, logger });
  // One audit MAC key for the run, inherited by every test process and the CLI processes they start.
  process.env.ECOC_AUDIT_MAC_KEY ??= randomBytes(32).toString('base64');
  // Test processes run workers side by side: each worker's operations port is a free one.
  process.env.ECOC_WORKER_OPS_PORT ??= '0';
  const workflowBundlePath = join(workDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle);

  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCliPath', temporalCliPath);
  project.provide('postgresAdminUrl', postgres.adminUrl.replace(/\/[^/]+$/, '/postgres'));
  project.provide('postgresOwnerUrl', postgres.ownerUrl);
  project.provide('postgresAppUrl', postgres.url);
  project.provide('postgresOwnerRole', EMBEDDED_OWNER_ROLE);
  project.provide('workflowBundlePath', workflowBundlePath);

  return teardown;
}
