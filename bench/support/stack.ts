import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startEmbeddedPostgres } from '../../platform/database/embedded-postgres.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import { prepareDatabase } from '../../platform/database/roles.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { workerProbe } from '../../platform/readiness.ts';
import { waitFor } from '../../platform/wait.ts';
import type { Destination } from '../../schemas/config/destinations.ts';
import { resolveTemporalCli } from '../../platform/temporal/cli-binary.ts';
import { startDevServer } from '../../platform/temporal/dev-server.ts';
import { startNapSimulatorProcess, type NapSimulatorProcess } from '../../test/support/nap-simulator.ts';
import { runCli, type RunningCli } from '../../test/support/processes.ts';
import { createTestPki } from '../../test/support/tls.ts';
import { NAP_DESTINATION } from '../../test/support/specimen.ts';

export interface BenchStack {
  dir: string;
  temporalAddress: string;
  databaseUrl: string;
  client: Client;
  db: Database;
  nap: NapSimulatorProcess;
  /** Environment for an `ecoc worker` process on this stack. */
  workerEnv(taskQueue: string): Record<string, string>;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * A throwaway stack of real servers for benchmarks: Temporal dev server (headless, in memory),
 * embedded PostgreSQL with migrations, and the NAP simulator over mutual TLS.
 */
export async function startBenchStack(options: { /** Configured next to the NAP (e.g. an SFTP partner). */ destinations?: Destination[] } = {}): Promise<BenchStack> {
  const logger = createLogger(process.env.ECOC_BENCH_LOG_LEVEL ?? 'warn');
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-bench-'));
  chmodSync(dir, 0o755);
  const temporal = await startDevServer({
    executable: await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, logger }),
    port: await freePort(),
    namespace: 'default',
    logger,
    readyTimeoutMs: 120_000,
  });
  const postgres = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), port: await freePort(), database: 'ecoc', logger });
  // As in production: migrated by the schema owner, used by the app role that owns nothing.
  await prepareDatabase({ appUrl: postgres.url, ownerUrl: postgres.ownerUrl, logger });
  const pki = createTestPki();
  const nap = await startNapSimulatorProcess(pki, join(dir, 'nap-state'));
  const destinationsFile = join(dir, 'destinations.json');
  writeFileSync(
    destinationsFile,
    JSON.stringify([
      { id: NAP_DESTINATION, kind: 'nap', url: nap.url, clientCertFile: pki.clientCert, clientKeyFile: pki.clientKey, caFile: pki.caCert, memberState: 'e6' },
      ...(options.destinations ?? []),
    ]),
  );
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const db = createDatabase(postgres.url);
  return {
    dir,
    temporalAddress: temporal.address,
    databaseUrl: postgres.url,
    client,
    db,
    nap,
    logger,
    workerEnv: (taskQueue) => ({
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: postgres.url,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: join(dir, 'data'),
      ECOC_DESTINATIONS_FILE: destinationsFile,
      ECOC_LOG_LEVEL: 'warn',
      // Several workers side by side: each its own free operations port.
      ECOC_WORKER_OPS_PORT: '0',
    }),
    async stop() {
      await connection.close();
      await db.$disconnect();
      await nap.stop();
      await postgres.stop();
      await temporal.stop();
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `ecoc worker` as its own process on this stack, ready once it polls its task queue. */
export async function startWorkerProcess(stack: BenchStack, taskQueue: string): Promise<RunningCli> {
  const worker = runCli(['worker'], stack.workerEnv(taskQueue));
  const probeConnection = Connection.lazy({ address: stack.temporalAddress, interceptors: [] });
  const probe = workerProbe(probeConnection, 'default', taskQueue);
  await waitFor(async () => {
    if (worker.child.exitCode !== null) throw new Error(`the worker process exited with ${worker.child.exitCode}:\n${worker.output()}`);
    return (await probe()).ok;
  }, { timeoutMs: 120_000, what: 'the worker process', fatal: () => worker.child.exitCode !== null });
  await probeConnection.close();
  return worker;
}
