import { createServer, type Server } from 'node:http';
import type { Connection } from '@temporalio/client';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { temporalSdkMetrics } from '../api/metrics/temporal.ts';
import type { Logger } from './logger.ts';
import { assertPortsFree } from './ports.ts';
import { checkReadiness, taskQueuePollers, type ReadinessProbe } from './readiness.ts';
import type { RunningWorker } from './temporal/worker.ts';

/**
 * The worker role's own small HTTP operations port (ECOC_WORKER_OPS_HOST/ECOC_WORKER_OPS_PORT):
 * `/healthz` (the process answers), `/readyz` (the worker runs and polls, the database answers)
 * and `/metrics` (this registry — activity executions, Node process — plus the Temporal SDK's
 * Prometheus text). Operational numbers only, no certificate data, hence no credential: bind it
 * to an address only the orchestrator and Prometheus reach.
 */
export interface WorkerOps {
  url: string;
  stop(): Promise<void>;
}

/** The worker process's metrics registry, with Node process metrics. */
export function workerMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `ecoc_worker_build_info{build_id}` = 1: which workflow bundle this worker runs (its sha256), so a rollout is visible. */
export function recordWorkerBuild(registry: Registry, buildId: string): void {
  new Gauge({ name: 'ecoc_worker_build_info', help: 'The workflow bundle this worker runs: build_id is its sha256 (first 24 hex digits)', labelNames: ['build_id'] as const, registers: [registry] }).set({ build_id: buildId }, 1);
}

/**
 * Counts every activity execution by activity name and outcome and times it, in this worker
 * process: `ecoc_activity_executions_total{activity,outcome}` and
 * `ecoc_activity_duration_seconds{activity}`, and logs each at debug (inside the activity's trace
 * span when tracing is on, so the line carries its trace_id). Wrapping keeps each function's
 * behaviour (the activity context is async-local, so it is unchanged).
 */
export function instrumentActivities<T extends object>(activities: T, registry: Registry, logger?: Logger): T {
  const executions = new Counter({
    name: 'ecoc_activity_executions_total',
    help: 'Activity executions finished in this worker process, by activity and outcome (completed, failed)',
    labelNames: ['activity', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ecoc_activity_duration_seconds',
    help: 'Activity execution time in this worker process, by activity',
    labelNames: ['activity'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    if (typeof activity !== 'function') {
      wrapped[name] = activity;
      continue;
    }
    const fn = activity as (...args: unknown[]) => unknown;
    wrapped[name] = async function (this: unknown, ...args: unknown[]) {
      const started = process.hrtime.bigint();
      let outcome: 'completed' | 'failed' = 'failed';
      try {
        const result = await fn.apply(this, args);
        outcome = 'completed';
        return result;
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        executions.inc({ activity: name, outcome });
        duration.observe({ activity: name }, seconds);
        logger?.debug({ activity: name, outcome, durationMs: Math.round(seconds * 1000) }, 'activity finished');
      }
    };
  }
  return wrapped as T;
}

/**
 * Ready when this worker runs, its pollers poll, and the Temporal server has seen this worker's
 * identity poll the task queue within the last minute (so the connection works end to end).
 */
export function workerPollingProbe(worker: RunningWorker, connection: Connection, namespace: string, taskQueue: string): ReadinessProbe {
  return async () => {
    const status = worker.worker.getStatus();
    const data = { runState: status.runState, workflowPoller: status.workflowPollerState, activityPoller: status.activityPollerState };
    if (status.runState !== 'RUNNING') return { ok: false, detail: `worker is ${status.runState.toLowerCase()}`, data };
    if (status.workflowPollerState !== 'POLLING' || status.activityPollerState !== 'POLLING') {
      return { ok: false, detail: `worker pollers are not polling (workflow ${status.workflowPollerState.toLowerCase()}, activity ${status.activityPollerState.toLowerCase()})`, data };
    }
    const identity = worker.worker.options.identity;
    const pollers = await taskQueuePollers(connection, namespace, taskQueue);
    return pollers.identities.includes(identity)
      ? { ok: true, detail: `polling task queue ${taskQueue}`, data: { ...data, pollers: pollers.count } }
      : { ok: false, detail: `the Temporal server has not seen this worker poll task queue ${taskQueue} in the last minute`, data: { ...data, pollers: pollers.count } };
  };
}

export interface WorkerOpsOptions {
  host: string;
  port: number;
  registry: Registry;
  probes: Record<string, ReadinessProbe>;
  /** The SDK's Prometheus exporter (loopback), appended to /metrics. */
  temporalMetricsAddress: string | undefined;
  logger: Logger;
}

export async function startWorkerOps(options: WorkerOpsOptions): Promise<WorkerOps> {
  await assertPortsFree([{ port: options.port, host: options.host, purpose: 'worker operations (ECOC_WORKER_OPS_PORT)' }]);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'application/json', JSON.stringify({ status: 405, title: 'Only GET' }));
    const answer = async () => {
      switch (path) {
        case '/healthz':
          return send(200, 'application/json', JSON.stringify({ status: 'ok' }));
        case '/readyz': {
          const readiness = await checkReadiness(options.probes);
          if (!readiness.ready) options.logger.warn({ checks: readiness.checks }, 'worker not ready');
          return send(readiness.ready ? 200 : 503, 'application/json', JSON.stringify({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks }));
        }
        case '/metrics': {
          const [own, sdk] = await Promise.all([options.registry.metrics(), temporalSdkMetrics(options.temporalMetricsAddress)]);
          return send(200, options.registry.contentType, `${own}\n${sdk}`);
        }
        default:
          return send(404, 'application/json', JSON.stringify({ status: 404, title: 'Not found: /healthz, /readyz, /metrics' }));
      }
    };
    answer().catch((error: unknown) => {
      options.logger.error({ err: error, path }, 'worker operations request failed');
      if (!res.headersSent) send(500, 'application/json', JSON.stringify({ status: 500, title: 'Internal error' }));
      else res.end();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  options.logger.info({ url }, 'worker operations port listening (/healthz, /readyz, /metrics)');
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
