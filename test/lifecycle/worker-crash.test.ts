import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { waitFor } from '../../platform/wait.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';

const COUNT = 12;

/**
 * The production worker (`ecoc worker`) as its own process, killed with SIGKILL while certificates
 * are being signed and delivered, then started again: nothing is lost and nothing is delivered twice.
 */
describe('worker crash mid-run', () => {
  let h: LifecycleHarness;
  let dataDir: string;
  let worker: RunningCli | undefined;

  beforeAll(async () => {
    // The in-process harness worker only serves its own queue; the crash-tested worker gets another.
    h = await startLifecycleHarness();
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-crash-'));
    chmodSync(dataDir, 0o755);
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await h?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function startWorkerProcess(taskQueue: string): RunningCli {
    return runCli(['worker'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_LOG_LEVEL: 'warn',
    });
  }

  it('loses no certificate and delivers none twice when the worker is killed and restarted', async () => {
    const taskQueue = `crash-${Date.now()}`;
    const ingest = h.ingestOn(taskQueue);
    const vins = Array.from({ length: COUNT }, () => nextVin());
    worker = startWorkerProcess(taskQueue);
    const ids = await Promise.all(vins.map(async (vin) => (await ingest(specimenRecord(vin))).certificateId));
    await Promise.all(ids.map((id) => h.waitForStatus(id, 'in_review', 120_000)));
    for (const id of ids) {
      const state = await h.status(id);
      const handle = h.client.workflow.getHandle(id);
      await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    }
    await Promise.all(ids.map((id) => h.waitForStatus(id, 'awaiting_release', 120_000)));
    await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] })));

    // Kill as soon as the first delivery has landed, while the others are in flight or queued.
    await waitFor(async () => (await Promise.all(vins.map((vin) => h.nap.received(vin)))).some(Boolean), { timeoutMs: 60_000, what: 'a first delivery' });
    worker.child.kill('SIGKILL');
    await worker.exited;
    const deliveredBeforeRestart = (await Promise.all(vins.map((vin) => h.nap.received(vin)))).filter(Boolean).length;

    worker = startWorkerProcess(taskQueue);
    await Promise.all(ids.map((id) => h.waitForStatus(id, 'acknowledged', 180_000)));
    worker.child.kill('SIGTERM');
    await worker.exited;

    const received = await Promise.all(vins.map((vin) => h.nap.received(vin)));
    for (const [index, entry] of received.entries()) {
      expect(entry?.messages, `VIN ${vins[index]}`).toHaveLength(1);
    }
    expect(await h.db.certificate.count({ where: { vin: { in: vins } } })).toBe(COUNT);
    expect(await h.db.deliveryReceipt.count({ where: { certificateId: { in: ids } } })).toBe(COUNT);
    // The kill landed mid-run: some, not all, deliveries had happened before it.
    expect(deliveredBeforeRestart).toBeGreaterThan(0);
  }, 400_000);
});
