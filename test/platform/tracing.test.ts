import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey } from '../../auth/api-keys.ts';
import { freePort } from '../../platform/ports.ts';
import { bundleWorkflows } from '../../platform/temporal/bundle.ts';
import { waitFor } from '../../platform/wait.ts';
import { nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { startDeadEndpoint, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { runCli, type RunningCli } from '../support/processes.ts';

const SERVER = 2;

/** JSON log lines of a process's output (pino), skipping anything else. */
function logLines(process: RunningCli): Record<string, unknown>[] {
  return process
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as unknown;
        return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}

/**
 * `ecoc api` and `ecoc worker` as their own processes (each registers its tracer provider
 * globally, as in production) exporting to an OTLP/HTTP receiver this test runs: one ingest is
 * one trace from the API's request span through the Temporal client and the workflow to the
 * activities and their database queries.
 */
describe('tracing (OpenTelemetry over OTLP/HTTP)', () => {
  let h: LifecycleHarness;
  let dir: string;
  let bundlePath: string;
  const processes: RunningCli[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ecoc-tracing-'));
    // The production bundle (with the workflow interceptors), as `npm run build` makes it.
    const [harness, code] = await Promise.all([startLifecycleHarness(), bundleWorkflows()]);
    h = harness;
    bundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);
  });
  afterAll(async () => {
    for (const process of processes) {
      process.child.kill('SIGKILL');
      await process.exited;
    }
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Env of an app process on its own task queue, next to the harness's database and NAP. */
  function appEnv(taskQueue: string, extra: Record<string, string>): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_WORKFLOW_BUNDLE: bundlePath,
      ECOC_LOG_LEVEL: 'debug',
      // Export every 200 ms, not every 5 s, so the test sees the spans soon.
      OTEL_BSP_SCHEDULE_DELAY: '200',
      ...extra,
    };
  }

  async function startRole(role: 'worker' | 'api' | 'start', env: Record<string, string>): Promise<RunningCli> {
    const process = runCli([role], env);
    processes.push(process);
    const exitedEarly = () => process.child.exitCode !== null || process.child.signalCode !== null;
    if (role !== 'api') {
      await waitFor(async () => {
        if (exitedEarly()) throw new Error(`ecoc ${role} exited`);
        return logLines(process).some((line) => line.msg === 'worker polling');
      }, {
        timeoutMs: 120_000,
        what: `ecoc ${role} polling`,
        fatal: exitedEarly,
      }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${process.output()}`, { cause: error });
      });
    }
    if (env.ECOC_API_PORT) {
      await waitFor(async () => {
        if (exitedEarly()) throw new Error(`ecoc ${role} exited`);
        return (await fetch(`http://127.0.0.1:${env.ECOC_API_PORT}/readyz`)).status === 200;
      }, {
        timeoutMs: 120_000,
        what: `ecoc ${role} API ready`,
        fatal: exitedEarly,
      }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${process.output()}`, { cause: error });
      });
    }
    return process;
  }

  async function ingest(apiPort: string, token: string, vin: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${apiPort}/api/v1/vehicles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(specimenRecord(vin)),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { certificateId: string }).certificateId;
  }

  it('links the API request span to the workflow and its activities in one trace, with trace ids in the log lines', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    try {
      const taskQueue = `tracing-${Date.now()}`;
      const apiPort = String(await freePort());
      // The worker exports protobuf (the default), the API JSON: both encodings reach the receiver.
      const [worker] = await Promise.all([
        startRole('worker', appEnv(taskQueue, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })),
        startRole('api', appEnv(taskQueue, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ECOC_API_HOST: '127.0.0.1', ECOC_API_PORT: apiPort })),
      ]);
      const { token } = await createApiKey(h.db, { subject: 'erp-feed', roles: ['integrator'], manufacturers: ['acme'], createdBy: 'test' });
      const certificateId = await ingest(apiPort, token, nextVin());
      await h.waitForStatus(certificateId, 'in_review', 120_000);

      // The API's server span for the ingest is the root of the trace.
      let request: ReceivedSpan | undefined;
      await waitFor(async () => (request = receiver.spans.find((span) => span.service === 'ecoc-api' && span.kind === SERVER && span.attributes['http.route'] === '/api/v1/vehicles')) !== undefined, {
        timeoutMs: 30_000,
        what: 'the API request span',
      });
      expect(request!.name).toBe('POST /api/v1/vehicles');
      expect(request!.parentSpanId).toBeUndefined();
      const inTrace = () => receiver.spans.filter((span) => span.traceId === request!.traceId);
      const activity = (name: string) => inTrace().find((span) => span.name === `RunActivity:${name}` && span.service === 'ecoc-worker');
      let activities: ReceivedSpan[] = [];
      await waitFor(
        async () => {
          activities = inTrace().filter((span) => span.name.startsWith('RunActivity:') && span.attributes.temporalWorkflowId === certificateId);
          // A StartActivity span leaves the workflow sandbox with a later activation than its RunActivity span: wait for both.
          const parents = new Set(inTrace().map((span) => span.spanId));
          return activities.length >= 1 && activities.every((run) => run.parentSpanId !== undefined && parents.has(run.parentSpanId)) && inTrace().some((span) => span.service === 'ecoc-worker' && span.name.startsWith('pg.'));
        },
        { timeoutMs: 30_000, what: `the workflow's activity spans in trace ${request!.traceId}` },
      );

      const byId = new Map(inTrace().map((span) => [span.spanId, span]));
      const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
        const chain: ReceivedSpan[] = [];
        for (let parent = span.parentSpanId && byId.get(span.parentSpanId); parent; parent = parent.parentSpanId && byId.get(parent.parentSpanId)) chain.push(parent);
        return chain;
      };
      // API request -> Temporal client update-with-start (API process) -> the workflow in the worker.
      const start = inTrace().find((span) => span.name.startsWith('UpdateWithStartWorkflow:') && span.attributes.temporalWorkflowId === certificateId);
      expect(start?.service, inTrace().map((span) => `${span.service} ${span.name}`).join(', ')).toBe('ecoc-api');
      expect(ancestors(start!).at(-1)).toBe(request);
      // Each activity runs under the workflow's StartActivity span (exported from the workflow sandbox through the sink).
      for (const run of activities) {
        const scheduled = byId.get(run.parentSpanId!);
        expect(scheduled?.name, run.name).toBe(run.name.replace('RunActivity:', 'StartActivity:'));
        expect(scheduled?.service).toBe('ecoc-worker');
      }
      // Database queries of an activity are its children.
      const first = activity(activities[0]!.name.slice('RunActivity:'.length))!;
      const queries = inTrace().filter((span) => span.service === 'ecoc-worker' && span.name.startsWith('pg.'));
      expect(queries.some((query) => ancestors(query).includes(first) || query.parentSpanId === first.spanId || ancestors(query).some((span) => span.name.startsWith('RunActivity:')))).toBe(true);
      expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/x-protobuf', 'application/json']));

      // The log lines written inside the trace carry its ids.
      const traced = logLines(worker).filter((line) => line.trace_id === request!.traceId);
      expect(traced.length).toBeGreaterThan(0);
      expect(traced.every((line) => typeof line.span_id === 'string' && /^[0-9a-f]{16}$/.test(line.span_id))).toBe(true);
    } finally {
      for (const process of processes.splice(0)) {
        process.child.kill('SIGTERM');
        await process.exited;
      }
      await receiver.stop();
    }
  }, 300_000);

  it('keeps working with an unreachable collector and says so once', async () => {
    const dead = await startDeadEndpoint();
    try {
      const taskQueue = `tracing-dead-${Date.now()}`;
      const apiPort = String(await freePort());
      // Worker and API in one process, as `ecoc start` runs them against your own servers.
      const both = await startRole('start', appEnv(taskQueue, { OTEL_EXPORTER_OTLP_ENDPOINT: dead.url, ECOC_API_HOST: '127.0.0.1', ECOC_API_PORT: apiPort }));
      const { token } = await createApiKey(h.db, { subject: 'erp-feed', roles: ['integrator'], manufacturers: ['acme'], createdBy: 'test' });
      const first = await ingest(apiPort, token, nextVin());
      await h.waitForStatus(first, 'in_review', 120_000);
      await waitFor(async () => dead.attempts() >= 1, { timeoutMs: 30_000, what: 'a first export attempt' });
      // Later ingests work too, while every export fails.
      const second = await ingest(apiPort, token, nextVin());
      await h.waitForStatus(second, 'in_review', 120_000);
      const attemptsBefore = dead.attempts();
      await waitFor(async () => dead.attempts() >= attemptsBefore + 2, { timeoutMs: 30_000, what: 'more export attempts' });

      const failures = logLines(both).filter((line) => typeof line.msg === 'string' && line.msg.startsWith('OTLP trace export failed'));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: 40, component: 'telemetry', endpoint: dead.url });
      expect(dead.attempts()).toBeGreaterThanOrEqual(3);
    } finally {
      for (const process of processes.splice(0)) {
        process.child.kill('SIGTERM');
        await process.exited;
      }
      await dead.stop();
    }
  }, 300_000);
});
