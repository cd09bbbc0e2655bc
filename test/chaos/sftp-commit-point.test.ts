import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageFileName } from '../../connectors/delivery/sftp-package.ts';
import { waitFor } from '../../platform/wait.ts';
import { startReleaseRun } from '../../releases/service.ts';
import { packageIdFor, type ReleaseProgress } from '../../workflows/release/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, startLifecycleHarness, testDestination, type LifecycleHarness } from '../support/lifecycle.ts';
import { readPackages, seedAwaitingRelease, startWorkerProcess, waitForProjection, type SeededCertificate, type WorkerProcess } from '../support/release.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

const COUNT = 4;
const SFTP_DESTINATION = testDestination('partner-sftp');
const UPLOAD_DESTINATION = testDestination('partner-sftp-upload');
const RETRY_WINDOW = '15s';

/**
 * A TCP relay in front of the partner's sshd that, once one connection has passed `holdAfter`
 * bytes from the client, stops passing that client's bytes: an upload bigger than that waits
 * mid-way with the partner holding part of it. `cut()` drops the held connection, as a dead
 * client's would be.
 */
async function startHoldingRelay(targetPort: number, holdAfter: number) {
  let held: { client: Socket; upstream: Socket } | undefined;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    let passed = 0;
    client.on('data', (chunk: Buffer) => {
      if (held?.client === client) return;
      upstream.write(chunk);
      passed += chunk.length;
      if (!held && passed >= holdAfter) held = { client, upstream };
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    isHolding: () => held !== undefined,
    cut: () => held?.upstream.destroy(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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
  let relay: Awaited<ReturnType<typeof startHoldingRelay>>;
  let dataDir: string;
  let worker: WorkerProcess | undefined;
  let admin: pg.Client;
  let locker: pg.Client;
  const releaseQueue = `release-commit-${Date.now()}`;

  beforeAll(async () => {
    sshd = await startTestSshd();
    partnerDir = join(sshd.root, 'partner-in');
    uploadDir = join(sshd.root, 'partner-upload');
    relay = await startHoldingRelay(sshd.endpoint().port, 32_768);
    mkdirSync(partnerDir);
    mkdirSync(uploadDir);
    h = await startLifecycleHarness({
      destinations: [
        { id: SFTP_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') },
        // Through the relay, which holds the first connection that sends more than 32 kB: the
        // package upload (40 signed certificates) and not the SSH handshake and checks before it.
        { id: UPLOAD_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-upload'), port: relay.port },
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
    await relay?.close();
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

  /** A later release run finds nothing left to send, and each certificate reached the partner's directory once. */
  async function expectDeliveredOnce(queue: string, destination: string, dir: string, seeded: SeededCertificate[]): Promise<void> {
    const again = await startReleaseRun(h.client, { ...h.config, ECOC_TASK_QUEUE: queue }, { destination }, actors.release);
    expect(((await h.client.workflow.getHandle(again.workflowId).result()) as ReleaseProgress).selected).toBe(0);
    const report = await assertInvariants({
      db: h.db,
      accepted: seeded.map((c) => c.certificateId),
      signingCertificatePem: h.signer.certificatePem,
      partners: new Map([[destination, dir]]),
      audit: { config: h.config },
    });
    expect(report).toMatchObject({ certificates: seeded.length, deliveredOnce: seeded.length, byStatus: { delivered: seeded.length } });
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

    expect(await readPackages(partnerDir)).toHaveLength(COUNT / 2);
    await expectDeliveredOnce(releaseQueue, SFTP_DESTINATION, partnerDir, seeded);
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
    worker = await startWorker(queue);
    await waitFor(async () => relay.isHolding() && existsSync(part), { timeoutMs: 120_000, intervalMs: 50, what: 'the upload to be held mid-way', fatal: () => worker!.child.exitCode !== null });
    expect(readdirSync(uploadDir)).toEqual([`${name}.part`]); // not committed
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');
    // The dead client's connection goes; the partner keeps what reached it.
    relay.cut();
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
    expect(leftover.byteLength).toBeLessThan(delivered.byteLength); // the kill came before the upload had finished
    expect(delivered.subarray(0, leftover.byteLength).equals(leftover)).toBe(true); // the cut-off copy was a prefix of it
    const [pkg] = await readPackages(uploadDir);
    expect(pkg!.manifest.files.map((file) => file.vin).sort()).toEqual(seeded.map((c) => c.vin).sort());

    await expectDeliveredOnce(queue, destination, uploadDir, seeded);
  }, 600_000);
});
