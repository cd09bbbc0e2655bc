import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Database } from './database/prisma.ts';
import { isDatabaseUnavailable } from './database/unavailable.ts';
import { isTemporalUnavailable } from './temporal/unavailable.ts';

// CommonJS package: named ESM imports fail under plain Node.
const { temporal } = proto;

export interface ReadinessCheck {
  ok: boolean;
  detail: string;
  /** Whether readiness depends on this check; an advisory check only reports (and alarms through metrics). */
  required?: boolean;
  /** Machine-readable facts for dashboards (e.g. `{ state: 'absent', pollers: 0 }`). */
  data?: Record<string, unknown>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** A probe; `advisory` ones are reported but never make the process unready. */
export type ReadinessProbe = (() => Promise<ReadinessCheck>) & { advisory?: boolean };

/** Marks a probe as advisory: its result is in the body, but /readyz stays 200 when it fails. */
export function advisory(probe: () => Promise<ReadinessCheck>): ReadinessProbe {
  return Object.assign(() => probe(), { advisory: true });
}

/** Runs probes in parallel, each bounded in time, so one hung dependency cannot hang /readyz. */
export async function checkReadiness(probes: Record<string, ReadinessProbe>, timeoutMs = 3_000): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => [name, { ...(await withTimeout(probe, timeoutMs)), required: !probe.advisory }] as const),
  );
  return { ready: entries.every(([, check]) => check.ok || !check.required), checks: Object.fromEntries(entries) };
}

async function withTimeout(probe: ReadinessProbe, timeoutMs: number): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe(),
      new Promise<ReadinessCheck>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
  } catch (error) {
    return { ok: false, detail: publicErrorDetail(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An error message fit for a public health endpoint: URLs and `host:port` addresses (gRPC and
 * PostgreSQL errors name them) are replaced, so the answer says why without mapping the network.
 */
export function publicErrorDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split('\n')[0]!
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
    .replace(/(?:\[[0-9a-f:.]+\]|[a-z0-9._-]+):\d{1,5}\b/gi, '<address>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, '<address>')
    .slice(0, 300);
}

/**
 * Temporal probes use a connection without the SDK's retry interceptor: a probe must answer
 * "down" within its deadline, not keep retrying in the background.
 */
export function temporalProbe(connection: Connection): ReadinessProbe {
  return async () => {
    try {
      const info = await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      return { ok: true, detail: `server ${info.serverVersion || 'reachable'}` };
    } catch (error) {
      // The gRPC message names the address; say what kind of failure it is instead.
      if (isTemporalUnavailable(error)) return { ok: false, detail: 'unavailable: the Temporal server does not accept connections (down or restarting)' };
      throw error;
    }
  };
}

export function databaseProbe(db: Database): ReadinessProbe {
  return async () => {
    try {
      await db.$queryRaw`SELECT 1`;
    } catch (error) {
      // Driver errors often carry no message of their own: say what kind of failure it is.
      if (isDatabaseUnavailable(error)) return { ok: false, detail: 'unavailable: the database server does not accept connections (down or restarting)' };
      throw error;
    }
    return { ok: true, detail: 'reachable' };
  };
}

/** Pollers the server has seen on a task queue within the last minute, and who they are. */
export interface TaskQueuePollers {
  count: number;
  identities: string[];
}

export async function taskQueuePollers(connection: Connection, namespace: string, taskQueue: string): Promise<TaskQueuePollers> {
  const response = await connection.withDeadline(Date.now() + 2_000, () =>
    connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }),
  );
  const recent = (response.pollers ?? []).filter((poller) => {
    const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
    return Date.now() / 1000 - seconds < 60;
  });
  return { count: recent.length, identities: recent.map((poller) => poller.identity ?? '') };
}

/** A worker is ready when it polls the task queue (seen by the server within the last minute). */
export function workerProbe(connection: Connection, namespace: string, taskQueue: string): ReadinessProbe {
  return async () => {
    const { count } = await taskQueuePollers(connection, namespace, taskQueue);
    return count > 0
      ? { ok: true, detail: `${count} poller(s) on task queue ${taskQueue}`, data: { state: 'present', pollers: count } }
      : { ok: false, detail: `absent: no worker polling task queue ${taskQueue}`, data: { state: 'absent', pollers: 0 } };
  };
}
