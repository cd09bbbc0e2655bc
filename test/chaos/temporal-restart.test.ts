import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey } from '../../auth/api-keys.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort, isPortFree } from '../../platform/ports.ts';
import { taskQueuePollers } from '../../platform/readiness.ts';
import { devServerPidFile, startDevServer, type DevServer } from '../../platform/temporal/dev-server.ts';
import { waitFor } from '../../platform/wait.ts';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';
import { waitForProjection } from '../support/release.ts';

const COUNT = 24;
/** How long the server stays away (the scenario, not a wait for readiness): longer than the clients' own gRPC retries. */
const OUTAGE_MS = 10_000;

interface BatchAnswer {
  accepted: number;
  results: { index: number; ok: boolean; certificateId?: string; code?: string }[];
}

/**
 * The Temporal dev server as `npm start` runs it (persistent, on a database file) is SIGKILLed in
 * the middle of an API batch ingest and started again on the same port and file ~10 s later. The
 * `ecoc worker` and `ecoc api` processes are not restarted: they reconnect by themselves. While
 * the server is away the API answers ingest with 503 temporal_unavailable and Retry-After, and
 * /readyz says why without an address; the client sends what was not accepted again, and every
 * certificate goes on to be approved, released and acknowledged with the invariants intact.
 */
describe('chaos: the Temporal server restarts mid-batch', () => {
  let h: LifecycleHarness;
  let dir: string;
  let dbFilename: string;
  let port: number;
  let apiPort: number;
  let server: DevServer | undefined;
  let connection: Connection | undefined;
  let client: Client;
  let token: string;
  const processes: RunningCli[] = [];
  const logger = createLogger('warn');
  const taskQueue = `temporal-restart-${Date.now()}`;

  const startServer = () => startDevServer({ executable: inject('temporalCliPath'), port, namespace: 'default', dbFilename, logger, readyTimeoutMs: 120_000 });

  beforeAll(async () => {
    h = await startLifecycleHarness();
    dir = mkdtempSync(join(tmpdir(), 'ecoc-chaos-temporal-'));
    chmodSync(dir, 0o755);
    dbFilename = join(dir, 'temporal', 'temporal.db');
    [port, apiPort] = [await freePort(), await freePort()];
    server = await startServer();
    // The test's own client (approvals, releases, pollers), without retries of its own beyond the SDK's.
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    ({ token } = await createApiKey(h.db, { subject: 'erp-feed', roles: ['integrator'], manufacturers: ['acme'], createdBy: 'test' }));
  });
  afterAll(async () => {
    for (const process of processes) {
      process.child.kill('SIGKILL');
      await process.exited;
    }
    await connection?.close();
    await server?.stop();
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const api = (path: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${apiPort}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** `ecoc worker` or `ecoc api` on this test's server, database, NAP and signing key. */
  async function startRole(role: 'worker' | 'api'): Promise<RunningCli> {
    const started = runCli([role], {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      ECOC_WORKER_OPS_PORT: '0',
      ECOC_API_HOST: '127.0.0.1',
      ECOC_API_PORT: String(apiPort),
      ECOC_LOG_LEVEL: 'warn',
    });
    processes.push(started);
    const exited = () => started.child.exitCode !== null || started.child.signalCode !== null;
    const ready = role === 'api' ? async () => (await api('/readyz')).status === 200 : async () => (await taskQueuePollers(connection!, 'default', taskQueue)).count > 0;
    await waitFor(ready, { timeoutMs: 120_000, what: `ecoc ${role}`, fatal: exited }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${started.output()}`, { cause: error });
    });
    return started;
  }

  it('keeps every accepted certificate through a SIGKILL of the server; the worker and API reconnect on their own', async () => {
    const [worker, apiProcess] = await Promise.all([startRole('worker'), startRole('api')]);
    const vins = Array.from({ length: COUNT }, () => nextVin());
    const batch = api('/api/v1/vehicles', { records: vins.map((vin) => specimenRecord(vin)) });

    // Mid-batch: some records have their certificate, most are still to come.
    await waitFor(async () => (await h.db.certificate.count({ where: { vin: { in: vins } } })) >= 3, { timeoutMs: 60_000, intervalMs: 20, what: 'the first certificates of the batch' });
    process.kill(Number(readFileSync(devServerPidFile(dbFilename), 'utf8')), 'SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => isPortFree(port), { timeoutMs: 10_000, intervalMs: 50, what: `port ${port} to be released` });

    // While it is away: ingest is a 503 with Retry-After (once the client's own gRPC retries gave
    // up), /readyz names Temporal without an address. The batch in flight answers at the same time.
    const [during, ready, answer] = await Promise.all([api('/api/v1/vehicles', specimenRecord(nextVin())), api('/readyz'), batch]);
    expect(during.status).toBe(503);
    expect(during.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await during.json()).toMatchObject({ status: 503, code: 'temporal_unavailable' });
    expect(ready.status).toBe(503);
    const readiness = JSON.stringify(await ready.json());
    expect(readiness).toMatch(/"temporal":\{"ok":false,"detail":"unavailable: [^"]+"/);
    expect(readiness).not.toContain(String(port));
    expect(readiness).not.toContain('127.0.0.1');
    const first = (await answer.json()) as BatchAnswer;
    expect(first.accepted).toBeLessThan(COUNT); // the kill landed mid-batch
    // What was not accepted says so with a code to retry on, never as an internal error.
    expect(first.results.filter((result) => !result.ok).map((result) => result.code)).not.toContain('internal_error');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - killedAt))));
    server = await startServer();
    await waitFor(async () => (await api('/readyz')).status === 200, { timeoutMs: 60_000, what: 'the API to be ready again' });

    // The client sends the records that were not accepted again; ingest is idempotent per record.
    const again = vins.filter((_vin, index) => !first.results[index]?.ok);
    let retried: BatchAnswer = { accepted: 0, results: [] };
    await waitFor(
      async () => {
        const response = await api('/api/v1/vehicles', { records: again.map((vin) => specimenRecord(vin)) });
        if (response.status !== 200) return false;
        retried = (await response.json()) as BatchAnswer;
        return retried.accepted === again.length;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: 'the retried records to be accepted' },
    );
    const ids = [...first.results.filter((r) => r.ok).map((r) => r.certificateId!), ...retried.results.map((r) => r.certificateId!)];
    expect(new Set(ids).size).toBe(COUNT);

    // Nothing restarted: the same worker and API processes carry every certificate to the NAP.
    await waitForProjection(h, ids, 'in_review', 90_000);
    const rows = await h.db.certificate.findMany({ where: { id: { in: ids } }, select: { id: true, dataVersion: true } });
    await Promise.all(rows.map((row) => client.workflow.getHandle(row.id).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: row.dataVersion }] })));
    await waitForProjection(h, ids, 'awaiting_release', 90_000);
    await Promise.all(ids.map((id) => client.workflow.getHandle(id).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] })));
    await waitForProjection(h, ids, 'acknowledged', 90_000);
    expect([worker.child.exitCode, apiProcess.child.exitCode]).toEqual([null, null]);

    const report = await assertInvariants({ db: h.db, accepted: ids, signingCertificatePem: h.signer.certificatePem, naps: h.naps, audit: { config: h.config } });
    expect(report).toMatchObject({ certificates: COUNT, deliveredOnce: COUNT, byStatus: { acknowledged: COUNT } });
  }, 600_000);
});
