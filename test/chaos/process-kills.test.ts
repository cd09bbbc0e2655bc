import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey } from '../../auth/api-keys.ts';
import { freePort } from '../../platform/ports.ts';
import { waitFor } from '../../platform/wait.ts';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, mtlsJson, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';
import { startWorkerProcess, waitForProjection, type WorkerProcess } from '../support/release.ts';

const COUNT = 12;

/**
 * SIGKILLs at the worst moments the other crash tests leave open (test/lifecycle/worker-crash.test.ts
 * kills at a random point of a run, test/release/worker-kill.test.ts mid-release,
 * test/chaos/sftp-commit-point.test.ts between an SFTP commit and its receipts), each held at its
 * moment by a real mechanism and killed once the process is observably inside it:
 *
 * - the API during a batch ingest: its records are stored and their workflow updates wait for a
 *   worker (none polls yet); the client's retry of the same batch creates nothing twice;
 * - the worker while signing: the signature is made and its write waits on a table lock;
 * - the worker during a NAP call: the NAP stored the message and holds its answer.
 *
 * One stack for all three; the invariants hold at the end.
 */
describe('chaos: processes killed at the worst moments', () => {
  let h: LifecycleHarness;
  let admin: pg.Client;
  let locker: pg.Client;
  let token: string;
  let worker: WorkerProcess | undefined;
  const apis: RunningCli[] = [];
  const taskQueue = `process-kills-${Date.now()}`;
  const vins = Array.from({ length: COUNT }, () => nextVin());
  let ids: string[] = [];

  beforeAll(async () => {
    h = await startLifecycleHarness();
    const adminUrl = inject('postgresAdminUrl').replace(/\/[^/]+$/, new URL(h.databaseUrl).pathname);
    admin = new pg.Client({ connectionString: adminUrl });
    locker = new pg.Client({ connectionString: adminUrl });
    await Promise.all([admin.connect(), locker.connect()]);
    ({ token } = await createApiKey(h.db, { subject: 'erp-feed', roles: ['integrator'], manufacturers: ['acme'], createdBy: 'test' }));
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    for (const api of apis) api.child.kill('SIGKILL');
    await admin?.end();
    await locker?.end();
    await h?.stop();
  });

  const env = () => ({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    DATABASE_URL: h.databaseUrl,
    ECOC_TASK_QUEUE: taskQueue,
    ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
    ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
    ECOC_DELIVERY_TIMEOUT: '10s',
    ECOC_LOG_LEVEL: 'warn',
  });
  const startWorker = () => startWorkerProcess(inject('workflowBundlePath'), env());
  async function killWorker(): Promise<void> {
    worker!.child.kill('SIGKILL');
    expect(await worker!.exited).toBe('SIGKILL');
  }

  async function startApi(port: number): Promise<RunningCli> {
    const api = runCli(['api'], { ...env(), ECOC_API_HOST: '127.0.0.1', ECOC_API_PORT: String(port), ECOC_WORKFLOW_BUNDLE: inject('workflowBundlePath') });
    apis.push(api);
    const exited = () => api.child.exitCode !== null || api.child.signalCode !== null;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, { timeoutMs: 120_000, what: 'ecoc api', fatal: exited }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${api.output()}`, { cause: error });
    });
    return api;
  }
  const ingestBatch = (port: number) =>
    fetch(`http://127.0.0.1:${port}/api/v1/vehicles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: vins.map((vin) => specimenRecord(vin)) }),
    });

  /** Backends of the dead worker waiting on a lock with this statement: they must never run. */
  async function blocked(statement: RegExp): Promise<number[]> {
    const { rows } = await admin.query<{ pid: number; query: string }>(`SELECT pid, query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`);
    return rows.filter((row) => statement.test(row.query)).map((row) => row.pid);
  }
  async function releaseLock(pids: number[]): Promise<void> {
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    await locker.query('ROLLBACK');
  }

  it('the API killed mid-batch: the retried batch creates nothing twice and loses nothing', async () => {
    const port = await freePort();
    const api = await startApi(port);
    const answer = ingestBatch(port).catch((error: unknown) => error);
    // Inside the batch: the first records' versions are stored, their workflow updates wait for a worker.
    await waitFor(async () => (await h.db.certificateDataVersion.count({ where: { certificate: { vin: { in: vins } } } })) >= 4, {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'records of the batch stored',
    });
    api.child.kill('SIGKILL');
    expect(await api.exited).toBe('SIGKILL');
    expect(await answer).toBeInstanceOf(Error); // the client got no answer: it sends the batch again

    worker = await startWorker();
    const again = await startApi(port);
    const retried = await ingestBatch(port);
    expect(retried.status).toBe(200);
    const body = (await retried.json()) as { accepted: number; results: { certificateId: string }[] };
    expect(body.accepted).toBe(COUNT);
    ids = body.results.map((result) => result.certificateId);
    await waitForProjection(h, ids, 'in_review', 120_000);
    // One certificate and one data version per VIN: the stored-but-unanswered records were not taken twice.
    const versions = await h.db.certificateDataVersion.groupBy({ by: ['certificateId'], where: { certificateId: { in: ids } }, _count: true });
    expect(versions.map((v) => v._count)).toEqual(ids.map(() => 1));
    again.child.kill('SIGTERM');
    await again.exited;
  }, 300_000);

  it('the worker killed while signing: nothing is marked signed until a signature is stored, and signing completes after a restart', async () => {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE certificate_message IN EXCLUSIVE MODE'); // reads pass, the signature's UPDATE waits
    const rows = await h.db.certificate.findMany({ where: { id: { in: ids } }, select: { id: true, dataVersion: true } });
    await Promise.all(rows.map((row) => h.client.workflow.getHandle(row.id).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: row.dataVersion }] })));
    let pids: number[] = [];
    await waitFor(async () => (pids = await blocked(/UPDATE\s+"?(public"?\.)?"?certificate_message/i)).length > 0, {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: 'a signature waiting to be stored',
      fatal: () => worker!.child.exitCode !== null,
    });
    await killWorker();
    await releaseLock(pids);
    expect(await h.db.certificateMessage.count({ where: { certificateId: { in: ids }, signedXml: { not: null } } })).toBe(0);
    expect(await h.db.certificate.count({ where: { id: { in: ids }, status: { in: ['signed', 'awaiting_release'] } } })).toBe(0);

    worker = await startWorker();
    await waitForProjection(h, ids, 'awaiting_release', 180_000);
  }, 300_000);

  it('the worker killed during a NAP call: the NAP holds each message once after the resend', async () => {
    // The NAP stores the first message it is sent and never answers: the worker waits inside the call.
    const destinations = JSON.parse(readFileSync(h.config.ECOC_DESTINATIONS_FILE!, 'utf8')) as { caFile: string; clientCertFile: string; clientKeyFile: string }[];
    const tls = { caCert: destinations[0]!.caFile, clientCert: destinations[0]!.clientCertFile, clientKey: destinations[0]!.clientKeyFile };
    expect((await mtlsJson(`${new URL(h.nap.url).origin}/admin/delay`, tls, { ms: 'never', calls: 1 })).status).toBe(200);
    const [held] = ids;
    await h.client.workflow.getHandle(held!).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    const vin = vins[ids.indexOf(held!)]!;
    await waitFor(async () => (await h.nap.received(vin)) !== undefined, { timeoutMs: 120_000, intervalMs: 100, what: 'the NAP to hold the message', fatal: () => worker!.child.exitCode !== null }).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(await h.status(held!))}\n${worker!.output().slice(-3000)}`, { cause: error });
    });
    expect(await h.db.deliveryReceipt.count({ where: { certificateId: held! } })).toBe(0); // inside the call: no answer yet
    await killWorker();

    worker = await startWorker();
    await Promise.all(ids.slice(1).map((id) => h.client.workflow.getHandle(id).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] })));
    await waitForProjection(h, ids, 'acknowledged', 180_000);
    expect((await h.nap.received(vin))?.messages).toHaveLength(1);

    const report = await assertInvariants({ db: h.db, accepted: ids, signingCertificatePem: h.signer.certificatePem, naps: h.naps, audit: { config: h.config } });
    expect(report).toMatchObject({ certificates: COUNT, deliveredOnce: COUNT, byStatus: { acknowledged: COUNT } });
  }, 300_000);
});
