import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startApplication, type Application } from '../../platform/application.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { startDevServer, type DevServer } from '../../platform/temporal/dev-server.ts';
import { waitFor } from '../../platform/wait.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const logger = createLogger('warn');

async function readyz(url: string) {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> } };
}

describe('/readyz against the real stack', () => {
  let database: TestDatabase;
  let app: Application;
  let ownTemporal: DevServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    // A Temporal server of this test's own, so stopping it does not disturb other test files.
    ownTemporal = await startDevServer({
      executable: inject('temporalCliPath'),
      port: await freePort(),
      namespace: 'default',
      logger,
      readyTimeoutMs: 120_000,
    });
    const config = loadConfig({ ECOC_API_PORT: '0', ECOC_WORKER_OPS_PORT: '0', ECOC_TASK_QUEUE: `readyz-${Date.now()}`, ECOC_LOG_LEVEL: 'warn' });
    app = await startApplication(config, { temporalAddress: ownTemporal.address, databaseUrl: database.url }, logger, { worker: true, api: true });
  });
  afterAll(async () => {
    await app?.stop();
    await ownTemporal?.stop();
    await database?.drop();
  });

  it('answers /healthz while the process is up', async () => {
    const response = await fetch(`${app.api!.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('is ready when Temporal, the database and a polling worker are all there', async () => {
    // The server sees the worker's poller shortly after the worker starts polling.
    await waitFor(async () => (await readyz(app.api!.url)).status === 200, { timeoutMs: 30_000, what: 'readyz 200' });
    const { body } = await readyz(app.api!.url);
    expect(body.status).toBe('ready');
    expect(body.checks.temporal!.ok).toBe(true);
    expect(body.checks.database!.ok).toBe(true);
    expect(body.checks.worker!.detail).toMatch(/poller/);
    // The worker's own port is ready too.
    await waitFor(async () => (await readyz(app.workerOps!.url)).status === 200, { timeoutMs: 30_000, what: 'worker readyz 200' });
  });

  it('answers unknown routes with problem JSON', async () => {
    const response = await fetch(`${app.api!.url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('turns red with a clear reason when Temporal goes down', async () => {
    await ownTemporal.stop();
    let result = await readyz(app.api!.url);
    await waitFor(
      async () => {
        result = await readyz(app.api!.url);
        return result.status === 503;
      },
      { timeoutMs: 30_000, what: 'readyz 503' },
    );
    expect(result.body.status).toBe('not_ready');
    expect(result.body.checks.temporal!.ok).toBe(false);
    expect(result.body.checks.temporal!.detail.length).toBeGreaterThan(0);
    expect(result.body.checks.database!.ok).toBe(true);
    // The worker's port says why it is not ready; neither answer maps the network.
    let worker = await readyz(app.workerOps!.url);
    await waitFor(
      async () => {
        worker = await readyz(app.workerOps!.url);
        return worker.status === 503;
      },
      { timeoutMs: 30_000, what: 'worker readyz 503' },
    );
    expect(worker.body.checks.worker!.ok).toBe(false);
    expect(worker.body.checks.worker!.detail.length).toBeGreaterThan(0);
    expect(worker.body.checks.database!.ok).toBe(true);
    const port = ownTemporal.address.split(':').pop()!;
    for (const body of [result.body, worker.body]) expect(JSON.stringify(body)).not.toContain(`:${port}`);
  });
});
