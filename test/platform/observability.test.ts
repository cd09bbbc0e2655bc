import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey } from '../../auth/api-keys.ts';
import { startApplication, type Application } from '../../platform/application.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { publicErrorDetail } from '../../platform/readiness.ts';
import { waitFor } from '../../platform/wait.ts';
import { startConsoleApp, type ConsoleApp } from '../support/console-app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

interface ReadinessBody {
  status: string;
  checks: Record<string, { ok: boolean; detail: string; required?: boolean; data?: Record<string, unknown> }>;
}

async function getJson(url: string): Promise<{ status: number; body: ReadinessBody }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as ReadinessBody };
}

async function metricsText(url: string, token?: string): Promise<string> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('readiness details for the public', () => {
  it('say why without naming hosts, ports or URLs', () => {
    expect(publicErrorDetail(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 10.1.2.3:7233\nstack'))).toBe(
      '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED <address>',
    );
    expect(publicErrorDetail(new Error("Can't reach database server at `db.internal:5432`"))).toBe("Can't reach database server at `<address>`");
    expect(publicErrorDetail(new Error('connect to postgresql://ecoc_app:secret@db.internal:5432/ecoc failed'))).toBe('connect to <url> failed');
    expect(publicErrorDetail(new Error('connect ECONNREFUSED [::1]:7233'))).toBe('connect ECONNREFUSED <address>');
  });
});

describe('the worker role’s operations port, during a lifecycle run (worker and API as npm start runs them)', () => {
  let h: ConsoleApp;

  beforeAll(async () => {
    h = await startConsoleApp();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers /healthz and /readyz (worker polling, database reachable) on its own port, apart from the API', async () => {
    const ops = h.app.workerOps!.url;
    expect(ops).not.toBe(h.url);
    const health = await fetch(`${ops}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    await waitFor(async () => (await getJson(`${ops}/readyz`)).status === 200, { timeoutMs: 30_000, what: 'worker readyz 200' });
    const { body } = await getJson(`${ops}/readyz`);
    expect(body.status).toBe('ready');
    expect(body.checks.worker).toMatchObject({ ok: true, required: true, data: { runState: 'RUNNING', workflowPoller: 'POLLING', activityPoller: 'POLLING' } });
    expect(body.checks.database).toMatchObject({ ok: true, required: true });
    expect(body.checks.signingCertificate).toMatchObject({ ok: true, required: false, data: { state: 'valid' } });
    expect((await fetch(`${ops}/nope`)).status).toBe(404);
  });

  it('counts the lifecycle’s activities in /metrics, next to the Temporal SDK’s own worker metrics', async () => {
    const erp = await h.key('erp-feed', ['integrator']);
    const certificateId = await h.ingest(specimenRecord(nextVin()), erp);
    await h.waitForStatus(certificateId, 'in_review', erp);

    const text = await metricsText(`${h.app.workerOps!.url}/metrics`);
    const completed = [...text.matchAll(/^ecoc_activity_executions_total\{activity="(\w+)",outcome="completed"\} (\d+)/gm)].map(([, activity, count]) => [activity!, Number(count)] as const);
    expect(completed.length, text).toBeGreaterThan(1);
    for (const [, count] of completed) expect(count).toBeGreaterThan(0);
    expect(text).toMatch(/^ecoc_activity_duration_seconds_count\{activity="\w+"\} [1-9]/m);
    // The SDK's exporter: activity executions by activity type, and worker task slots.
    for (const [activity] of completed) expect(text).toMatch(new RegExp(`^temporal_activity_execution_latency\\S*_count\\{[^}]*activity_type="${activity}"`, 'm'));
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    expect(text).toMatch(/^ecoc_signing_certificate_expiry_days \d+/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    // Which workflow code this worker runs: the bundle's sha256.
    expect(h.app.worker!.buildId).toMatch(/^[0-9a-f]{24}$/);
    expect(sample(text, 'ecoc_worker_build_info', { build_id: h.app.worker!.buildId })).toBe(1);
    // Operational numbers only: no certificate data on the unauthenticated port.
    expect(text).not.toMatch(/^ecoc_certificates\{/m);
  });

  it('the API reports the worker as present, in /readyz and as a gauge', async () => {
    const { status, body } = await getJson(`${h.url}/readyz`);
    expect(status).toBe(200);
    expect(body.checks.worker).toMatchObject({ ok: true, required: false, data: { state: 'present' } });
    const ops = await h.key('olga', ['ops'], ['*']);
    const text = await metricsText(`${h.url}/metrics`, ops);
    expect(sample(text, 'ecoc_worker_present', { task_queue: h.app.worker!.worker.options.taskQueue })).toBe(1);
    expect(sample(text, 'ecoc_worker_pollers', { task_queue: h.app.worker!.worker.options.taskQueue })).toBeGreaterThan(0);
  });
});

describe('an API process without a worker and with an expiring signing certificate', () => {
  const logger = createLogger('warn');
  const taskQueue = `no-worker-${Date.now()}`;
  let database: TestDatabase;
  let dir: string;
  let app: Application;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ecoc-observability-'));
    // Valid for 5 more days: inside the 30-day warning threshold.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '5', '-subj', '/CN=Expiring Seal', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const config = loadConfig({
      ECOC_API_PORT: '0',
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_LOG_LEVEL: 'warn',
      ECOC_DATA_DIR: dir,
      ECOC_SIGNING_CERT_FILE: join(dir, 'cert.pem'),
      ECOC_AUDIT_MAC_KEY: process.env.ECOC_AUDIT_MAC_KEY!,
    });
    app = await startApplication(config, { temporalAddress: inject('temporalAddress'), databaseUrl: database.url }, logger, { worker: false, api: true });
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stays ready (200) on its own dependencies and reports worker: absent and the expiring certificate', async () => {
    expect(app.workerOps).toBeUndefined();
    const { status, body } = await getJson(`${app.api!.url}/readyz`);
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.temporal).toMatchObject({ ok: true, required: true });
    expect(body.checks.database).toMatchObject({ ok: true, required: true });
    expect(body.checks.worker).toMatchObject({ ok: false, required: false, data: { state: 'absent', pollers: 0 } });
    expect(body.checks.worker!.detail).toMatch(/^absent: no worker polled task queue/);
    expect(body.checks.signingCertificate).toMatchObject({ ok: true, required: false, data: { state: 'expiring' } });
    expect(body.checks.signingCertificate!.detail).toMatch(/expires in [45] days/);
  });

  it('exposes both as gauges to alarm on', async () => {
    const { token } = await createApiKey(app.db, { subject: 'prometheus', roles: ['ops'], manufacturers: ['*'], createdBy: 'observability-test' });
    const text = await metricsText(`${app.api!.url}/metrics`, token);
    expect(sample(text, 'ecoc_worker_present', { task_queue: taskQueue })).toBe(0);
    expect(sample(text, 'ecoc_worker_pollers', { task_queue: taskQueue })).toBe(0);
    expect(sample(text, 'ecoc_signing_certificate_state', { state: 'expiring' })).toBe(1);
    expect(sample(text, 'ecoc_signing_certificate_state', { state: 'valid' })).toBe(0);
    expect(text).toMatch(/^ecoc_signing_certificate_expiry_days [45]$/m);
  });
});
