import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Database } from './database/prisma.ts';

// CommonJS package: named ESM imports fail under plain Node.
const { temporal } = proto;

export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

export type ReadinessProbe = () => Promise<ReadinessCheck>;

/** Runs probes in parallel, each bounded in time, so one hung dependency cannot hang /readyz. */
export async function checkReadiness(probes: Record<string, ReadinessProbe>, timeoutMs = 3_000): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => [name, await withTimeout(probe, timeoutMs)] as const),
  );
  return { ready: entries.every(([, check]) => check.ok), checks: Object.fromEntries(entries) };
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
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Temporal probes use a connection without the SDK's retry interceptor: a probe must answer
 * "down" within its deadline, not keep retrying in the background.
 */
export function temporalProbe(connection: Connection): ReadinessProbe {
  return async () => {
    const info = await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
    return { ok: true, detail: `server ${info.serverVersion || 'reachable'}` };
  };
}

export function databaseProbe(db: Database): ReadinessProbe {
  return async () => {
    await db.$queryRaw`SELECT 1`;
    return { ok: true, detail: 'reachable' };
  };
}

/** A worker is ready when it polls the task queue (seen by the server within the last minute). */
export function workerProbe(connection: Connection, namespace: string, taskQueue: string): ReadinessProbe {
  return async () => {
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
    return recent.length > 0
      ? { ok: true, detail: `${recent.length} poller(s) on task queue ${taskQueue}` }
      : { ok: false, detail: `no worker polling task queue ${taskQueue}` };
  };
}
