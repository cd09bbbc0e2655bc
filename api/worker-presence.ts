import type { Connection } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import { advisory, publicErrorDetail, taskQueuePollers, type ReadinessProbe, type TaskQueuePollers } from '../platform/readiness.ts';

/**
 * Whether a worker polls the certificate task queue, as the API sees it through Temporal
 * (DescribeTaskQueue). The API does not need a worker to answer, so this is an advisory /readyz
 * check (`worker: present|absent|unknown`) plus gauges to alarm on:
 * `ecoc_worker_pollers{task_queue}` and `ecoc_worker_present{task_queue}` (1, 0; -1 when Temporal
 * cannot tell).
 */
export function workerPresence(connection: Connection, namespace: string, taskQueue: string, registry: Registry): ReadinessProbe {
  let cached: { at: number; pollers: Promise<TaskQueuePollers> } | undefined;
  const pollers = () => {
    if (!cached || Date.now() - cached.at > 1_000) cached = { at: Date.now(), pollers: taskQueuePollers(connection, namespace, taskQueue) };
    return cached.pollers;
  };
  new Gauge({
    name: 'ecoc_worker_pollers',
    help: 'Workers the Temporal server saw polling the task queue within the last minute (0 also when Temporal does not answer)',
    labelNames: ['task_queue'] as const,
    registers: [registry],
    async collect() {
      this.set({ task_queue: taskQueue }, await pollers().then((seen) => seen.count, () => 0));
    },
  });
  new Gauge({
    name: 'ecoc_worker_present',
    help: 'Whether a worker polls the task queue: 1 present, 0 absent, -1 unknown (Temporal does not answer)',
    labelNames: ['task_queue'] as const,
    registers: [registry],
    async collect() {
      this.set({ task_queue: taskQueue }, await pollers().then((seen) => (seen.count > 0 ? 1 : 0), () => -1));
    },
  });
  return advisory(async () => {
    try {
      const { count } = await pollers();
      return count > 0
        ? { ok: true, detail: `present: ${count} poller(s) on task queue ${taskQueue}`, data: { state: 'present', pollers: count } }
        : { ok: false, detail: `absent: no worker polled task queue ${taskQueue} in the last minute`, data: { state: 'absent', pollers: 0 } };
    } catch (error) {
      return { ok: false, detail: `unknown: ${publicErrorDetail(error)}`, data: { state: 'unknown' } };
    }
  });
}
