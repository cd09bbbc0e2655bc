import { setFlagsFromString } from 'node:v8';
import { Worker } from '@temporalio/worker';
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
  /** Cache size and workflow thread heap (workflowMemory); unset: Temporal's defaults. */
  memory?: WorkflowMemory;
}

/** Resident memory of the worker besides its workflow thread's heap (main thread at a 256 MiB heap limit, signing threads, Temporal core, code), measured with the bench. */
const WORKER_BASE_MIB = 700;
/** What one cached certificate workflow retains in the workflow thread's V8 heap: 537 filled a 600 MiB heap (issue 17). */
const CACHED_WORKFLOW_MIB = 1.2;
/** Cached workflows fill at most this share of that heap; the rest holds each activation's garbage between collections. */
const CACHE_SHARE_OF_HEAP = 0.6;

export interface WorkflowMemory {
  /** Temporal's sticky cache size. */
  maxCachedWorkflows: number;
  /** The V8 old-space limit of the workflow thread (and of other threads started after it). */
  workflowHeapMib: number;
}

/**
 * Sizes the workflow cache and the workflow thread's heap from the worker's memory budget. Cached
 * workflows live in the workflow thread's own V8 heap, which V8 otherwise lets grow towards a
 * limit derived from the machine's memory (≈ 4 GiB here) before it collects much: a worker with
 * 10,000 parked certificates reached 2–4.7 GiB resident. Temporal's default cache size looks at
 * the main thread's heap only.
 */
export function workflowMemory(settings: { ECOC_WORKER_MAX_CACHED_WORKFLOWS?: number | undefined; ECOC_WORKER_MEMORY_MIB: number }): WorkflowMemory {
  const budgetHeapMib = Math.max(128, settings.ECOC_WORKER_MEMORY_MIB - WORKER_BASE_MIB);
  const maxCachedWorkflows = settings.ECOC_WORKER_MAX_CACHED_WORKFLOWS ?? Math.max(2, Math.floor((budgetHeapMib * CACHE_SHARE_OF_HEAP) / CACHED_WORKFLOW_MIB));
  // A cache set larger than the budget allows gets the heap it needs rather than running out of memory.
  const workflowHeapMib = Math.max(budgetHeapMib, Math.ceil((maxCachedWorkflows * CACHED_WORKFLOW_MIB) / CACHE_SHARE_OF_HEAP));
  return { maxCachedWorkflows, workflowHeapMib };
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
  // Read by V8 when an isolate starts: the workflow thread Worker.create starts below gets this
  // heap limit (the main thread keeps its own). Temporal offers no per-thread option for it.
  if (settings.memory) setFlagsFromString(`--max-old-space-size=${settings.memory.workflowHeapMib}`);
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
    ...(settings.memory ? { maxCachedWorkflows: settings.memory.maxCachedWorkflows } : {}),
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
