import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from '../logger.ts';
import { telemetry } from '../telemetry.ts';
import { loadWorkflowCode } from './bundle.ts';
import { connectTemporalNative, type TemporalConnectionOptions } from './connection.ts';
import { installTemporalRuntime } from './runtime.ts';

export interface WorkerSettings {
  /** From temporalConnectionOptions(): address, TLS, API key. */
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
  activities: object;
  logger: Logger;
  /** A pre-built bundle (`npm run build`, ECOC_WORKFLOW_BUNDLE; tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string | undefined;
  /** How long running activities may finish after shutdown was asked for (ECOC_WORKER_SHUTDOWN_GRACE); default 30 s. */
  shutdownGraceMs?: number;
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>;
}

/** Resident memory of a worker with an empty workflow cache (runtime, bundle, Prisma, libxml2); an estimate to re-measure with the bench. */
const WORKER_BASE_MIB = 400;
/** What one cached certificate workflow adds to resident memory: ≈ (2,035 MiB − base) / 2,310 cached, from issue 17's 10,000-parked run. */
const CACHED_WORKFLOW_MIB = 0.75;

/**
 * The sticky cache size for a memory budget: what is left after the worker's own footprint, one
 * cached workflow at a time. Temporal's default (from the V8 heap limit) ignores the process's
 * native memory and let 10,000 parked certificates grow a worker past 2 GiB.
 */
export function workflowCacheSize(settings: { ECOC_WORKER_MAX_CACHED_WORKFLOWS?: number | undefined; ECOC_WORKER_MEMORY_MIB: number }): number {
  return settings.ECOC_WORKER_MAX_CACHED_WORKFLOWS ?? Math.max(2, Math.floor((settings.ECOC_WORKER_MEMORY_MIB - WORKER_BASE_MIB) / CACHED_WORKFLOW_MIB));
}

export interface RunningWorker {
  worker: Worker;
  /** sha256 of the workflow bundle (platform/temporal/bundle.ts): which workflow code this worker runs. */
  buildId: string;
  /** Resolves when the worker has stopped polling and finished in-flight tasks. */
  stop(): Promise<void>;
}

/** After the grace time, cancelled activities get this long to return before the worker gives up on them. */
const FORCE_AFTER_GRACE_MS = 10_000;

/** Creates and starts a Worker; `stop()` drains it and closes its connection. */
export async function startWorker(settings: WorkerSettings): Promise<RunningWorker> {
  installTemporalRuntime(settings.logger);
  const code = await loadWorkflowCode({ bundlePath: settings.workflowBundlePath, logger: settings.logger });
  const connection = await connectTemporalNative(settings.connection);
  const tracing = telemetry();
  const graceMs = settings.shutdownGraceMs ?? 30_000;
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: settings.activities,
    workflowBundle: code.bundle,
    interceptors: tracing.workerInterceptors,
    sinks: tracing.workflowSinks,
    // SIGTERM mid-delivery: stop polling, let running activities finish within the grace time;
    // after it they are cancelled and, if they still run, left to Temporal to retry elsewhere.
    shutdownGraceTime: graceMs,
    shutdownForceTime: graceMs + FORCE_AFTER_GRACE_MS,
    ...settings.tuning,
  });
  settings.logger.info({ buildId: code.buildId, workflowCode: code.source, taskQueue: settings.taskQueue }, 'worker created');
  const running = worker.run();
  running.catch((error: unknown) => settings.logger.error({ err: error }, 'worker stopped with an error'));
  return {
    worker,
    buildId: code.buildId,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}
