import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { startEmbeddedPostgres } from '../../platform/database/embedded-postgres.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../../connectors/hsm/software.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import { prepareDatabase } from '../../platform/database/roles.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { freePort, isPortFree } from '../../platform/ports.ts';
import { bundleWorkflows } from '../../platform/temporal/bundle.ts';
import { workerProbe } from '../../platform/readiness.ts';
import { waitFor } from '../../platform/wait.ts';
import type { Destination } from '../../schemas/config/destinations.ts';
import { resolveTemporalCli } from '../../platform/temporal/cli-binary.ts';
import { devServerPidFile, startDevServer } from '../../platform/temporal/dev-server.ts';
import { startNapSimulatorProcess, type NapSimulatorProcess } from '../../test/support/nap-simulator.ts';
import { exitOf, REPO_ROOT, runCli, type RunningCli } from '../../test/support/processes.ts';
import { createTestPki } from '../../test/support/tls.ts';
import { checkInvariants, type InvariantReport } from '../../test/support/invariants.ts';
import { mtlsJson, type NapVinState } from '../../test/support/lifecycle.ts';
import { NAP_DESTINATION } from '../../test/support/specimen.ts';

export interface BenchStack {
  dir: string;
  temporalAddress: string;
  databaseUrl: string;
  client: Client;
  db: Database;
  /** For worker readiness; open as long as the stack. */
  probeConnection: Connection;
  nap: NapSimulatorProcess;
  /** Environment for an `ecoc worker` process on this stack. */
  workerEnv(taskQueue: string): Record<string, string>;
  /** The NAP simulator's admin endpoints (`/admin/fault`, `/admin/delay`, `/admin/vins/<vin>`), over its mutual TLS. */
  napAdmin(path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** SIGKILLs the Temporal dev server and starts it again on the same port (and database file with `persistentTemporal`). */
  restartTemporal(): Promise<void>;
  /** SIGKILLs the postmaster and starts the cluster again on the same port and data. */
  restartPostgres(): Promise<void>;
  logger: Logger;
  stop(): Promise<void>;
}

const WORKER_NODE_OPTIONS = '--max-old-space-size=256';

/**
 * A throwaway stack of real servers for benchmarks: Temporal dev server (headless, in memory),
 * embedded PostgreSQL with migrations, and the NAP simulator over mutual TLS.
 */
export async function startBenchStack(
  options: {
    /** Configured next to the NAP (e.g. an SFTP partner). */
    destinations?: Destination[];
    /** Temporal on a database file, as `npm start` runs it, so a restart keeps its workflows. */
    persistentTemporal?: boolean;
  } = {},
): Promise<BenchStack> {
  const logger = createLogger(process.env.ECOC_BENCH_LOG_LEVEL ?? 'warn');
  // One audit MAC key for the bench's own writes (ingest) and its worker processes, which inherit
  // it: otherwise each would generate its own and the trail could not be verified.
  process.env.ECOC_AUDIT_MAC_KEY ??= randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-bench-'));
  chmodSync(dir, 0o755);
  const temporalDb = options.persistentTemporal ? join(dir, 'temporal', 'temporal.db') : undefined;
  const temporalOptions = {
    executable: await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH, logger }),
    port: await freePort(),
    namespace: 'default',
    dbFilename: temporalDb,
    logger,
    readyTimeoutMs: 120_000,
  };
  let temporal = await startDevServer(temporalOptions);
  const postgres = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), port: await freePort(), database: 'ecoc', logger });
  // As in production: migrated by the schema owner, used by the app role that owns nothing.
  await prepareDatabase({ appUrl: postgres.url, ownerUrl: postgres.ownerUrl, logger });
  const pki = createTestPki();
  const nap = await startNapSimulatorProcess(pki, join(dir, 'nap-state'));
  // Workers run a pre-built bundle, as in production (the image's ECOC_WORKFLOW_BUNDLE): bundling
  // at start would put webpack's memory into every worker's figures.
  const workflowBundle = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundle, await bundleWorkflows(logger));
  const destinationsFile = join(dir, 'destinations.json');
  writeFileSync(
    destinationsFile,
    JSON.stringify([
      { id: NAP_DESTINATION, kind: 'nap', url: nap.url, clientCertFile: pki.clientCert, clientKeyFile: pki.clientKey, caFile: pki.caCert, memberState: 'e6' },
      ...(options.destinations ?? []),
    ]),
  );
  const connection = await Connection.connect({ address: temporal.address });
  // Without retries, as the API's probes; it lives as long as the stack (see `polling`).
  const probeConnection = Connection.lazy({ address: temporal.address, interceptors: [] });
  const client = new Client({ connection });
  const db = createDatabase(postgres.url);
  return {
    dir,
    temporalAddress: temporal.address,
    databaseUrl: postgres.url,
    client,
    probeConnection,
    db,
    nap,
    logger,
    napAdmin: (path, body) => mtlsJson(`${new URL(nap.url).origin}${path}`, pki, body),
    async restartTemporal() {
      if (!temporalDb) throw new Error('restartTemporal needs startBenchStack({ persistentTemporal: true }): an in-memory server would lose every workflow');
      process.kill(Number(readFileSync(devServerPidFile(temporalDb), 'utf8')), 'SIGKILL');
      await waitFor(() => isPortFree(temporalOptions.port), { timeoutMs: 30_000, intervalMs: 50, what: `the Temporal port ${temporalOptions.port} to be released` });
      temporal = await startDevServer(temporalOptions);
    },
    async restartPostgres() {
      postgres.child()?.kill('SIGKILL');
      await postgres.restart();
    },
    workerEnv: (taskQueue) => ({
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: postgres.url,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: join(dir, 'data'),
      ECOC_DESTINATIONS_FILE: destinationsFile,
      ECOC_LOG_LEVEL: 'warn',
      // Several workers side by side: each its own free operations port.
      ECOC_WORKER_OPS_PORT: '0',
      ECOC_WORKFLOW_BUNDLE: workflowBundle,
      // The main thread's heap limit docker-compose.yml gives the worker (see README, Memory).
      NODE_OPTIONS: WORKER_NODE_OPTIONS,
    }),
    async stop() {
      await probeConnection.close();
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
export async function startWorkerProcess(stack: BenchStack, taskQueue: string, env: Record<string, string> = {}): Promise<RunningCli> {
  return polling(stack, taskQueue, runCli(['worker'], { ...stack.workerEnv(taskQueue), ...env }));
}

/** The bare-engine worker (bench/support/bare-worker.ts) as its own process, like `ecoc worker`. */
export async function startBareWorkerProcess(stack: BenchStack, taskQueue: string): Promise<RunningCli> {
  const script = fileURLToPath(new URL('./bare-worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, env: { ...process.env, ...stack.workerEnv(taskQueue) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return polling(stack, taskQueue, { child, output: () => output, exited: exitOf(child) });
}

/**
 * Resolves once the worker polls its task queue. The probe connection is the stack's: a probe call
 * past its deadline may still be retried in the background, which must not outlive its connection.
 */
async function polling(stack: BenchStack, taskQueue: string, worker: RunningCli): Promise<RunningCli> {
  const probe = workerProbe(stack.probeConnection, 'default', taskQueue);
  await waitFor(async () => {
    if (worker.child.exitCode !== null) throw new Error(`the worker process exited with ${worker.child.exitCode}:\n${worker.output()}`);
    return (await probe()).ok;
  }, { timeoutMs: 120_000, what: 'the worker process', fatal: () => worker.child.exitCode !== null });
  return worker;
}

/**
 * The chaos suite's invariants over a bench run's certificates: the NAP simulator's state (and the
 * given SFTP partners' directories) as the truth, signatures checked with the workers' key.
 */
export async function checkBenchInvariants(stack: BenchStack, taskQueue: string, ids: readonly string[], partners?: ReadonlyMap<string, string>): Promise<InvariantReport> {
  const config = loadConfig({ ...process.env, ...stack.workerEnv(taskQueue) });
  const signer = await openSoftwareSigner(await ensureSoftwareKey(config.ECOC_DATA_DIR));
  try {
    const received = async (vin: string) => {
      const answer = await stack.napAdmin(`/admin/vins/${vin}`);
      return answer.status === 404 ? undefined : (answer.body as NapVinState);
    };
    return await checkInvariants({ db: stack.db, accepted: ids, signingCertificatePem: signer.certificatePem, naps: new Map([[NAP_DESTINATION, { received }]]), partners, audit: { config } });
  } finally {
    await signer.close();
  }
}

/** A report's figures as the benches print them: everything the destination lacks or we lack counts as lost. */
export function invariantFigures(report: InvariantReport) {
  return {
    deliveredOnce: report.deliveredOnce,
    duplicated: report.duplicated.length,
    lost: report.lost.length + report.missing.length + report.unrecorded.length,
    stuck: report.stuck.length,
    unverified: report.unverified.length,
    auditVerified: report.auditOk,
  };
}
