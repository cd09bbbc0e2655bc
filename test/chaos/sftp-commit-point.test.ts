import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageFileName } from '../../connectors/delivery/sftp-package.ts';
import { waitFor } from '../../platform/wait.ts';
import { startReleaseRun } from '../../releases/service.ts';
import { packageIdFor, type ReleaseProgress } from '../../workflows/release/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { readPackages, seedAwaitingRelease, startWorkerProcess, waitForProjection, type WorkerProcess } from '../support/release.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

const COUNT = 4;

/** The process that has `path` open (here: the partner's SFTP session writing the upload). */
function processWriting(path: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === path)) return Number(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}
const SFTP_DESTINATION = 'partner-sftp';
const UPLOAD_DESTINATION = 'partner-sftp-upload';
const RETRY_WINDOW = '15s';

/**
 * A worker killed during an SFTP delivery, at the two points that matter. First the window issue 18 names: a package is on the partner's server (the rename committed it) but
 * the worker dies before its receipts are stored, and the delivery step's retry window runs out
 * while no worker is there. The kill lands at exactly that point: the receipts' INSERT waits on a
 * table lock the test holds, the package is already in the partner's directory. The partner must
 * still see every certificate once, also after a second release run. Then the kill in the middle
 * of the upload, before the commit point: the partner holds a cut-off `.part`, never a package.
 */
describe('chaos: worker killed during an SFTP delivery', () => {
  let h: LifecycleHarness;
  let sshd: TestSshd;
  let partnerDir: string;
  let uploadDir: string;
  let dataDir: string;
  let worker: WorkerProcess | undefined;
  let admin: pg.Client;
  let locker: pg.Client;
  const releaseQueue = `release-commit-${Date.now()}`;

  beforeAll(async () => {
    sshd = await startTestSshd();
    partnerDir = join(sshd.root, 'partner-in');
    uploadDir = join(sshd.root, 'partner-upload');
    mkdirSync(partnerDir);
    mkdirSync(uploadDir);
    h = await startLifecycleHarness({
      destinations: [
        { id: SFTP_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') },
        { id: UPLOAD_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-upload') },
      ],
    });
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

  function startWorker(queue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
    return startWorkerProcess(inject('workflowBundlePath'), {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: queue,
      ECOC_DATA_DIR: dataDir,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_LOG_LEVEL: 'warn',
      ...env,
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
    worker = await startWorker(releaseQueue, { ECOC_RELEASE_DELIVERY_RETRY_FOR: RETRY_WINDOW });

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

    worker = await startWorker(releaseQueue, { ECOC_RELEASE_DELIVERY_RETRY_FOR: RETRY_WINDOW });
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

  it('an upload cut off by a worker kill leaves no partial package: the retry replaces the .part and the partner gets the package once', async () => {
    const count = 40;
    const destination = UPLOAD_DESTINATION;
    const queue = `release-upload-${Date.now()}`;
    worker?.child.kill('SIGKILL');
    const seeded = await seedAwaitingRelease(h, { count, destination });
    const config = { ...h.config, ECOC_TASK_QUEUE: queue };
    // Started before any worker polls its queue, so the package's name is known before the upload.
    const run = await startReleaseRun(h.client, config, { destination, chunkSize: count, concurrency: 1 }, actors.release);
    const name = packageFileName(packageIdFor(run.batchId, 1));
    const part = join(uploadDir, `${name}.part`);
    // The upload is held by stopping the partner's SFTP session process the moment the .part
    // appears (inotify), so the kill lands between the open and the rename, not by timing.
    let held: { pid: number; bytes: number } | undefined;
    const watcher = watch(uploadDir, (_event, file) => {
      if (held || file !== `${name}.part`) return;
      const pid = processWriting(part);
      if (pid === undefined) return;
      process.kill(pid, 'SIGSTOP');
      held = { pid, bytes: statSync(part).size };
    });
    try {
      worker = await startWorker(queue);
      await waitFor(async () => held !== undefined, { timeoutMs: 120_000, intervalMs: 50, what: 'the upload to begin', fatal: () => worker!.child.exitCode !== null });
    } finally {
      watcher.close();
    }
    expect(readdirSync(uploadDir)).toEqual([`${name}.part`]); // not committed
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');
    // The partner's session goes on: it takes in what reached it, then sees the connection gone.
    process.kill(held!.pid, 'SIGCONT');
    await waitFor(async () => !existsSync(`/proc/${held!.pid}`), { timeoutMs: 30_000, intervalMs: 50, what: "the partner's SFTP session to end" });
    const leftover = readFileSync(part);
    expect(readdirSync(uploadDir)).toEqual([`${name}.part`]);

    worker = await startWorker(queue);
    const handle = h.client.workflow.getHandle(run.workflowId);
    const summary = (await handle.result()) as ReleaseProgress;
    expect(summary).toMatchObject({ phase: 'completed', claimed: count, delivered: count, failed: 0, packages: 1 });
    await waitForProjection(h, seeded.map((c) => c.certificateId), 'delivered');

    // One whole package, nothing partial left, and the kill was before the upload could have finished.
    expect(readdirSync(uploadDir).sort()).toEqual([name]);
    const delivered = readFileSync(join(uploadDir, name));
    expect(held!.bytes).toBeLessThan(delivered.byteLength); // the kill came before the upload had finished
    expect(leftover.byteLength).toBeLessThanOrEqual(delivered.byteLength);
    expect(delivered.subarray(0, leftover.byteLength).equals(leftover)).toBe(true); // the cut-off copy was a prefix of it
    const [pkg] = await readPackages(uploadDir);
    expect(pkg!.manifest.files.map((file) => file.vin).sort()).toEqual(seeded.map((c) => c.vin).sort());

    const again = await startReleaseRun(h.client, config, { destination }, actors.release);
    expect(((await h.client.workflow.getHandle(again.workflowId).result()) as ReleaseProgress).selected).toBe(0);
    const report = await assertInvariants({
      db: h.db,
      accepted: seeded.map((c) => c.certificateId),
      signingCertificatePem: h.signer.certificatePem,
      partners: new Map([[destination, uploadDir]]),
      audit: { config: h.config },
    });
    expect(report).toMatchObject({ certificates: count, deliveredOnce: count, byStatus: { delivered: count } });
  }, 600_000);
});
