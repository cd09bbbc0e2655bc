import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { startReleaseRun } from '../../releases/service.ts';
import type { ReleaseProgress } from '../../workflows/release/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { readPackages, seedAwaitingRelease, startWorkerProcess, waitForProjection, type WorkerProcess } from '../support/release.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

const COUNT = 4;
const SFTP_DESTINATION = 'partner-sftp';
const RETRY_WINDOW = '15s';

/**
 * The window issue 18 names: a package is on the partner's server (the rename committed it) but
 * the worker dies before its receipts are stored, and the delivery step's retry window runs out
 * while no worker is there. The kill lands at exactly that point: the receipts' INSERT waits on a
 * table lock the test holds, the package is already in the partner's directory. The partner must
 * still see every certificate once, also after a second release run.
 */
describe('chaos: worker killed between the SFTP commit point and the receipts', () => {
  let h: LifecycleHarness;
  let sshd: TestSshd;
  let partnerDir: string;
  let dataDir: string;
  let worker: WorkerProcess | undefined;
  let admin: pg.Client;
  let locker: pg.Client;
  const releaseQueue = `release-commit-${Date.now()}`;

  beforeAll(async () => {
    sshd = await startTestSshd();
    partnerDir = join(sshd.root, 'partner-in');
    mkdirSync(partnerDir);
    h = await startLifecycleHarness({ destinations: [{ id: SFTP_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') }] });
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-chaos-commit-'));
    chmodSync(dataDir, 0o755);
    const adminUrl = inject('postgresAdminUrl').replace(/\/[^/]+$/, new URL(h.databaseUrl).pathname);
    admin = new pg.Client({ connectionString: adminUrl });
    locker = new pg.Client({ connectionString: adminUrl });
    await Promise.all([admin.connect(), locker.connect()]);
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await admin?.end();
    await locker?.end();
    await h?.stop();
    await sshd?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function startWorker(): Promise<WorkerProcess> {
    return startWorkerProcess(inject('workflowBundlePath'), {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: releaseQueue,
      ECOC_DATA_DIR: dataDir,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_RELEASE_DELIVERY_RETRY_FOR: RETRY_WINDOW,
      ECOC_LOG_LEVEL: 'warn',
    });
  }

  /** Backends waiting for the lock on delivery_receipt with an INSERT: receipts not yet written. */
  async function blockedReceiptInserts(): Promise<number[]> {
    // Outside the locking transaction: pg_stat_activity is a snapshot per transaction.
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO %delivery_receipt%' AND pid <> pg_backend_pid()`,
    );
    return rows.map((row) => row.pid);
  }

  it('records the committed package as delivered and never sends it again', async () => {
    const seeded = await seedAwaitingRelease(h, { count: COUNT, destination: SFTP_DESTINATION });
    const config = { ...h.config, ECOC_TASK_QUEUE: releaseQueue };
    worker = await startWorker();

    await locker.query('BEGIN');
    await locker.query('LOCK TABLE delivery_receipt IN EXCLUSIVE MODE'); // reads pass, the receipts' INSERT waits
    const run = await startReleaseRun(h.client, config, { destination: SFTP_DESTINATION, chunkSize: 2, concurrency: 1 }, actors.release);
    let blocked: number[] = [];
    await waitFor(
      async () => {
        blocked = await blockedReceiptInserts();
        return blocked.length > 0 && readdirSync(partnerDir).some((name) => name.endsWith('.zip'));
      },
      { timeoutMs: 120_000, intervalMs: 100, what: 'the first package uploaded with its receipts not yet written', fatal: () => worker!.child.exitCode !== null },
    );
    worker!.child.kill('SIGKILL');
    expect(await worker!.exited).toBe('SIGKILL');
    // The dead worker's connection goes with it: its INSERT must never run.
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [blocked]);
    await locker.query('ROLLBACK');
    expect(await h.db.deliveryReceipt.count({ where: { destination: SFTP_DESTINATION } })).toBe(0);

    // The retry window ends while no worker runs: the step times out for good.
    const handle = h.client.workflow.getHandle(run.workflowId);
    await waitFor(
      async () => {
        const history = await handle.fetchHistory();
        return history.events!.some((event) => event.activityTaskTimedOutEventAttributes);
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "the delivery step to time out" },
    );

    worker = await startWorker();
    await waitFor(async () => (await handle.describe()).status.name !== 'RUNNING', { timeoutMs: 120_000, what: 'the release run' }).catch(async (error: unknown) => {
      const description = await handle.describe();
      throw new Error(`${(error as Error).message}\n${JSON.stringify(description.raw.pendingActivities?.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message]))}\n${worker!.output().slice(-4000)}`);
    });
    const summary = (await handle.result()) as ReleaseProgress;
    expect(summary).toMatchObject({ phase: 'completed', claimed: COUNT, delivered: COUNT, failed: 0, packages: COUNT / 2 });
    await waitForProjection(h, seeded.map((c) => c.certificateId), 'delivered');

    // A later run finds nothing left to send.
    const again = await startReleaseRun(h.client, config, { destination: SFTP_DESTINATION }, actors.release);
    expect(((await h.client.workflow.getHandle(again.workflowId).result()) as ReleaseProgress).selected).toBe(0);

    const packages = await readPackages(partnerDir);
    expect(packages).toHaveLength(COUNT / 2);
    const report = await assertInvariants({
      db: h.db,
      accepted: seeded.map((c) => c.certificateId),
      signingCertificatePem: h.signer.certificatePem,
      partners: new Map([[SFTP_DESTINATION, partnerDir]]),
      audit: { config: h.config },
    });
    expect(report).toMatchObject({ certificates: COUNT, deliveredOnce: COUNT, byStatus: { delivered: COUNT } });
  }, 600_000);
});
