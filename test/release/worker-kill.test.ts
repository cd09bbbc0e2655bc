import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { releaseRunProgress, startReleaseRun } from '../../releases/service.ts';
import type { ReleaseProgress } from '../../workflows/release/definitions.ts';
import { actors, startLifecycleHarness, testDestination, type LifecycleHarness } from '../support/lifecycle.ts';
import { readPackages, seedAwaitingRelease, startWorkerProcess, waitForProjection, type WorkerProcess } from '../support/release.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

const COUNT = 40;
const SFTP_DESTINATION = testDestination('partner-sftp');

/**
 * The release runs on a worker process (production activities and channels, test/support/worker-process.ts), killed
 * with SIGKILL in the middle of the batch and started again: the batch finishes, every certificate
 * is delivered, and no message reaches the partner twice.
 */
describe('release interrupted by a worker kill', () => {
  let h: LifecycleHarness;
  let sshd: TestSshd;
  let partnerDir: string;
  let dataDir: string;
  let worker: WorkerProcess | undefined;
  const releaseQueue = `release-kill-${Date.now()}`;

  beforeAll(async () => {
    sshd = await startTestSshd();
    partnerDir = join(sshd.root, 'partner-in');
    mkdirSync(partnerDir);
    // Certificate workflows stay on the harness worker; the release runs on the worker under test.
    h = await startLifecycleHarness({ destinations: [{ id: SFTP_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') }] });
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-release-kill-'));
    chmodSync(dataDir, 0o755);
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
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
      ECOC_LOG_LEVEL: 'warn',
    });
  }

  it('finishes the batch after a restart without delivering anything twice', async () => {
    const seeded = await seedAwaitingRelease(h, { count: COUNT, destination: SFTP_DESTINATION });
    worker = await startWorker();
    const config = { ...h.config, ECOC_TASK_QUEUE: releaseQueue };
    const run = await startReleaseRun(h.client, config, { destination: SFTP_DESTINATION, chunkSize: 2, concurrency: 2 }, actors.release);

    // Kill once some packages are out and most are still to come.
    let atKill: ReleaseProgress | undefined;
    await waitFor(
      async () => {
        if (worker!.child.exitCode !== null) throw new Error(`worker exited early: ${worker!.output()}`);
        atKill = (await releaseRunProgress(h.client, config, { destination: SFTP_DESTINATION }, actors.ops).catch(() => undefined))?.progress;
        return (atKill?.delivered ?? 0) >= 4;
      },
      { timeoutMs: 240_000, intervalMs: 100, what: 'the first deliveries', fatal: () => worker!.child.exitCode !== null },
    );
    worker!.child.kill('SIGKILL');
    expect(await worker!.exited).toBe('SIGKILL');
    expect(atKill!.delivered).toBeLessThan(COUNT);

    worker = await startWorker();
    const summary = (await h.client.workflow.getHandle(run.workflowId).result()) as ReleaseProgress;
    expect(summary).toMatchObject({ batchId: run.batchId, phase: 'completed', selected: COUNT, claimed: COUNT, delivered: COUNT, failed: 0, packages: COUNT / 2 });

    const packages = await readPackages(partnerDir);
    expect(packages).toHaveLength(COUNT / 2);
    expect(readdirSync(partnerDir).filter((name) => !name.endsWith('.zip'))).toEqual([]); // no upload left half-done
    const vins = packages.flatMap((p) => p.manifest.files.map((file) => file.vin)).sort();
    expect(vins).toEqual(seeded.map((c) => c.vin).sort());
    const receipts = await h.db.deliveryReceipt.findMany({ where: { destination: SFTP_DESTINATION } });
    expect(receipts).toHaveLength(COUNT);
    await waitForProjection(h, seeded.map((c) => c.certificateId), 'delivered');
    for (const certificate of seeded.slice(0, 5)) expect((await h.status(certificate.certificateId)).receipts).toHaveLength(1);
  }, 900_000);
});
