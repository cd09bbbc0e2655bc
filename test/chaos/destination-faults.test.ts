import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { startReleaseRun } from '../../releases/service.ts';
import type { Config } from '../../schemas/config/index.ts';
import type { AcknowledgementWatchResult, ReleaseProgress } from '../../workflows/release/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, startLifecycleHarness, testDestination, type LifecycleHarness } from '../support/lifecycle.ts';
import { readPackages, seedAwaitingRelease, startWorkerProcess, waitForProjection, type SeededCertificate, type WorkerProcess } from '../support/release.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';
import { mountSmallDisk, type SmallDisk } from '../support/tmpfs.ts';

const PARTNER_DOWN = testDestination('partner-down');
const PARTNER_FULL = testDestination('partner-full');
const NAP_SLOW = testDestination('nap-slow');
const NAP_SILENT = testDestination('nap-silent');
const NAP_GONE = testDestination('nap-gone');
const OUTAGE_MS = 60_000;
/** One NAP call or upload; the slow NAP answers after 30 s, long after this. */
const DELIVERY_TIMEOUT = '5s';
/** How long a delivery step retries in the harness's worker; the outage's worker retries for minutes. */
const RETRY_WINDOW = '20s';

/**
 * Destinations misbehaving while a release runs, all at once (each on its own destination):
 *
 * - the SFTP partner down for 60 s mid-release: the step is retried and each package arrives once;
 * - the partner's disk full mid-upload: that upload fails retryably with nothing under the
 *   package's name, and the package arrives once when space is back; a partner that then never
 *   acknowledges leaves its certificates `delivered` (the partner must act) when the watch ends;
 * - a NAP that answers after 30 s: the call times out (ECOC_DELIVERY_TIMEOUT), the resend is
 *   recognised by its IviReferenceId and answered with the first receipt;
 * - a NAP that stores the message and never answers: the step gives up after its retry window and
 *   the certificate waits for the next release run, which delivers it once when the NAP answers again;
 * - a NAP that is gone for longer than the retry window: the certificate waits for the next run,
 *   and its history says what the last attempt met.
 */
describe.concurrent('chaos: destination faults', () => {
  let h: LifecycleHarness;
  let down: TestSshd;
  let full: TestSshd;
  let disk: SmallDisk;
  let dataDir: string;
  let worker: WorkerProcess | undefined;
  const releaseQueue = `release-outage-${Date.now()}`;

  beforeAll(async () => {
    [down, full] = await Promise.all([startTestSshd(), startTestSshd()]);
    mkdirSync(join(down.root, 'in'));
    mkdirSync(join(full.root, 'in'));
    disk = mountSmallDisk(join(full.root, 'in'), 1024 * 1024);
    h = await startLifecycleHarness({
      destinations: [
        { id: PARTNER_DOWN, kind: 'sftp', ...down.endpoint('in') },
        { id: PARTNER_FULL, kind: 'sftp', ...full.endpoint('in') },
      ],
      extraNaps: [NAP_SLOW, NAP_SILENT, NAP_GONE],
      env: { ECOC_DELIVERY_TIMEOUT: DELIVERY_TIMEOUT, ECOC_RELEASE_DELIVERY_RETRY_FOR: RETRY_WINDOW, ECOC_RELEASE_ACK_POLL_INTERVAL: '1s', ECOC_RELEASE_ACK_TIMEOUT: '5s' },
    });
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-chaos-destinations-'));
    chmodSync(dataDir, 0o755);
    // The outage outlasts the harness's retry window: its release runs on a worker that retries for minutes.
    worker = await startWorkerProcess(inject('workflowBundlePath'), {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: releaseQueue,
      ECOC_DATA_DIR: dataDir,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_RELEASE_DELIVERY_RETRY_FOR: '3m',
      ECOC_LOG_LEVEL: 'warn',
    });
  }, 180_000);
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await h?.stop();
    disk?.unmount();
    await Promise.all([down?.dispose(), full?.dispose()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function release(destination: string, options: { config?: Config; chunkSize?: number } = {}): Promise<{ workflowId: string; done: Promise<ReleaseProgress> }> {
    const run = await startReleaseRun(h.client, options.config ?? h.config, { destination, chunkSize: options.chunkSize ?? 10, concurrency: 1 }, actors.release);
    return { workflowId: run.workflowId, done: h.client.workflow.getHandle(run.workflowId).result() as Promise<ReleaseProgress> };
  }

  /** The delivery step's last failed attempt while Temporal retries it. */
  async function deliveryRetry(workflowId: string): Promise<string | undefined> {
    const pending = (await h.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
    return pending.find((activity) => activity.activityType?.name === 'deliverReleaseChunk' && activity.lastFailure)?.lastFailure?.message ?? undefined;
  }

  const ids = (seeded: SeededCertificate[]) => seeded.map((c) => c.certificateId);

  /** The scenario's own certificates and destination, read from the destination itself. */
  function invariants(accepted: SeededCertificate[], where: { nap?: string; partner?: [string, string] }) {
    return assertInvariants({
      db: h.db,
      accepted: ids(accepted),
      signingCertificatePem: h.signer.certificatePem,
      ...(where.nap ? { naps: new Map([[where.nap, h.naps.get(where.nap)!]]) } : {}),
      ...(where.partner ? { partners: new Map([where.partner]) } : {}),
      audit: { config: h.config },
    });
  }

  it('the SFTP partner down for 60 s mid-release: retried, then each package delivered once', async ({ expect }) => {
    const partnerDir = join(down.root, 'in');
    const seeded = await seedAwaitingRelease(h, { count: 3, destination: PARTNER_DOWN });
    const run = await release(PARTNER_DOWN, { config: { ...h.config, ECOC_TASK_QUEUE: releaseQueue }, chunkSize: 1 });
    await waitFor(async () => readdirSync(partnerDir).some((name) => name.endsWith('.zip')), { timeoutMs: 60_000, intervalMs: 100, what: 'the first package on the partner' });
    await down.stop();
    const stoppedAt = Date.now();
    let failure: string | undefined;
    await waitFor(async () => (failure = await deliveryRetry(run.workflowId)) !== undefined, { timeoutMs: 30_000, what: 'a failed delivery attempt while the partner is down' });
    expect(failure).toMatch(/server unavailable \(.*ECONNREFUSED/);
    const duringOutage = readdirSync(partnerDir).filter((name) => name.endsWith('.zip')).length;
    expect(duringOutage).toBeLessThan(3);
    // The outage itself is the scenario: the partner stays away this long, whatever the release does.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - stoppedAt)));
    await down.start();

    expect(await run.done).toMatchObject({ phase: 'completed', claimed: 3, delivered: 3, failed: 0, packages: 3 });
    expect(readdirSync(partnerDir).filter((name) => name.endsWith('.part'))).toEqual([]);
    const packages = await readPackages(partnerDir);
    expect(packages.flatMap((p) => p.manifest.files.map((file) => file.vin)).sort()).toEqual(seeded.map((c) => c.vin).sort());
    await waitForProjection(h, ids(seeded), 'delivered', 30_000);
    expect(await invariants(seeded, { partner: [PARTNER_DOWN, partnerDir] })).toMatchObject({ deliveredOnce: 3, byStatus: { delivered: 3 } });
  }, 240_000);

  it("the partner's disk full mid-upload: no partial package, delivered once when space is back; never acknowledged, the certificates wait in delivered", async ({ expect }) => {
    const seeded = await seedAwaitingRelease(h, { count: 4, destination: PARTNER_FULL });
    disk.fill(4096); // a page: the upload starts, then the disk is full
    const run = await release(PARTNER_FULL);
    let failure: string | undefined;
    try {
      await waitFor(async () => (failure = await deliveryRetry(run.workflowId)) !== undefined, { timeoutMs: 30_000, what: 'a failed upload on the full disk' });
      expect(failure).toMatch(/upload .*\.zip\.part failed: the partner's disk is full \(\d+ bytes free, \d+ needed\)/);
      // Nothing under a package's name, and the partial upload is gone.
      expect(readdirSync(disk.dir)).toEqual(['.filler']);
      expect(await h.db.deliveryReceipt.count({ where: { destination: PARTNER_FULL } })).toBe(0);
    } finally {
      disk.free();
    }
    const summary = await run.done;
    expect(summary).toMatchObject({ phase: 'completed', delivered: 4, failed: 0, packages: 1 });
    const packages = await readPackages(disk.dir);
    expect(packages.map((p) => p.manifest.count)).toEqual([4]);

    // The partner never writes its acknowledgement: the watch ends at its deadline, the certificates stay delivered.
    const watch = (await h.client.workflow.getHandle(summary.acknowledgementWorkflowId!).result()) as AcknowledgementWatchResult;
    expect(watch).toMatchObject({ pendingPackages: [packages[0]!.manifest.packageId], accepted: 0 });
    await waitForProjection(h, ids(seeded), 'delivered', 30_000);
    const report = await invariants(seeded, { partner: [PARTNER_FULL, disk.dir] });
    expect(report).toMatchObject({ deliveredOnce: 4, byStatus: { delivered: 4 } });
  }, 180_000);

  it('a NAP answering after 30 s: the call times out, the resend gets the first receipt, nothing is duplicated', async ({ expect }) => {
    const seeded = await seedAwaitingRelease(h, { count: 2, destination: NAP_SLOW });
    await h.naps.get(NAP_SLOW)!.delay({ ms: 30_000, calls: 1 });
    const started = Date.now();
    const run = await release(NAP_SLOW);
    expect(await run.done).toMatchObject({ delivered: 2, failed: 0 });
    // Done well before the slow answer would have come: the client gave up on it and sent again.
    expect(Date.now() - started).toBeLessThan(30_000);
    // The held call's message came back as a replay (a busy machine may make the other one time out too).
    const receipts = await h.db.deliveryReceipt.findMany({ where: { destination: NAP_SLOW } });
    expect(receipts).toHaveLength(2);
    expect(receipts.some((r) => (r.detail as { replayed: boolean }).replayed)).toBe(true);
    await waitForProjection(h, ids(seeded), 'acknowledged', 30_000);
    expect(await invariants(seeded, { nap: NAP_SLOW })).toMatchObject({ deliveredOnce: 2, byStatus: { acknowledged: 2 } });
  }, 180_000);

  it('a NAP that stores the message and never answers: the certificate waits for the next run, then is delivered once', async ({ expect }) => {
    const seeded = await seedAwaitingRelease(h, { count: 1, destination: NAP_SILENT });
    const [certificate] = seeded;
    await h.naps.get(NAP_SILENT)!.delay({ ms: 'never' });
    const first = await release(NAP_SILENT);
    expect(await first.done).toMatchObject({ delivered: 0, failed: 1, failedPermanently: 0 });
    const state = await h.waitForStatus(certificate!.certificateId, 'awaiting_release');
    // The reason is the destination's, not Temporal's bare "activity ScheduleToClose timeout".
    expect(state.transitions.at(-1)?.note).toMatch(
      new RegExp(`^batch ${NAP_SILENT}-.*: delivery to ${NAP_SILENT} gave up: no attempt succeeded in \\d+ s of retries; the last one (was still running|failed: .+)$`),
    );
    // The NAP has it, we have no receipt: exactly what the next run's resend settles.
    expect((await h.naps.get(NAP_SILENT)!.received(certificate!.vin))?.messages).toHaveLength(1);
    expect(await h.db.deliveryReceipt.count({ where: { destination: NAP_SILENT } })).toBe(0);

    await h.naps.get(NAP_SILENT)!.delay({ ms: 0 });
    expect(await (await release(NAP_SILENT)).done).toMatchObject({ delivered: 1, failed: 0 });
    const [receipt] = await h.db.deliveryReceipt.findMany({ where: { destination: NAP_SILENT } });
    expect(receipt?.detail).toMatchObject({ replayed: true });
    await waitForProjection(h, ids(seeded), 'acknowledged', 30_000);
    expect(await invariants(seeded, { nap: NAP_SILENT })).toMatchObject({ deliveredOnce: 1, byStatus: { acknowledged: 1 } });
  }, 180_000);

  it('a NAP gone for longer than the retry window: the certificate waits for the next run, its history naming the last error', async ({ expect }) => {
    const seeded = await seedAwaitingRelease(h, { count: 1, destination: NAP_GONE });
    await h.naps.get(NAP_GONE)!.stop(); // its port refuses connections: each attempt fails at once, the window ends between attempts
    const run = await release(NAP_GONE);
    expect(await run.done).toMatchObject({ delivered: 0, failed: 1, failedPermanently: 0 });
    const state = await h.waitForStatus(seeded[0]!.certificateId, 'awaiting_release');
    expect(state.transitions.at(-1)?.note).toMatch(
      new RegExp(`^batch ${NAP_GONE}-.*: delivery to ${NAP_GONE} gave up: no attempt succeeded in 20 s of retries; the last one failed: .*ECONNREFUSED`),
    );
    expect(await h.db.deliveryReceipt.count({ where: { destination: NAP_GONE } })).toBe(0);
  }, 120_000);
});
