import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleWorkflows } from '../../platform/temporal/bundle.ts';
import { waitFor } from '../../platform/wait.ts';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';

/** How long the NAP holds its answer: the delivery is in flight when SIGTERM arrives (below the delivery's 30 s heartbeat timeout). */
const NAP_ANSWER_DELAY_MS = 15_000;

/**
 * A rolling deploy of the production worker (`ecoc worker`): two workers run (the old and its
 * replacement); while a delivery to the NAP is in flight in one of them (the NAP has the message
 * and holds its answer), that one gets SIGTERM. Within ECOC_WORKER_SHUTDOWN_GRACE the old worker stops polling, lets the delivery
 * finish (its report to the certificate workflow is handled by the new worker's workflow poller),
 * and exits 0; the new worker carries the certificate on to acknowledged, and the NAP has the
 * message exactly once.
 */
describe('worker shutdown grace (SIGTERM mid-delivery)', () => {
  let h: LifecycleHarness;
  let bundlePath: string;
  const workers: RunningCli[] = [];

  beforeAll(async () => {
    const [harness, code] = await Promise.all([startLifecycleHarness(), bundleWorkflows()]);
    h = harness;
    bundlePath = join(h.config.ECOC_DATA_DIR, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);
  });
  afterAll(async () => {
    for (const worker of workers) {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) continue;
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await h?.stop();
  });

  async function startWorkerProcess(taskQueue: string): Promise<RunningCli> {
    const started = runCli(['worker'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_WORKFLOW_BUNDLE: bundlePath,
      ECOC_WORKER_SHUTDOWN_GRACE: '60s',
      ECOC_LOG_LEVEL: 'debug',
    });
    workers.push(started);
    await waitFor(
      async () => {
        if (started.child.exitCode !== null) throw new Error(`ecoc worker exited with ${started.child.exitCode}`);
        return started.output().includes('"msg":"worker polling"');
      },
      { timeoutMs: 120_000, what: 'ecoc worker polling', fatal: () => started.child.exitCode !== null },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${started.output()}`, { cause: error });
    });
    return started;
  }

  /** The simulator's admin endpoint, over the destination's own mutual TLS. */
  function napAdmin(path: string, body: unknown): Promise<number> {
    const [nap] = JSON.parse(readFileSync(h.config.ECOC_DESTINATIONS_FILE!, 'utf8')) as { url: string; clientCertFile: string; clientKeyFile: string; caFile: string }[];
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        new URL(path, nap!.url),
        { method: 'POST', ca: readFileSync(nap!.caFile), cert: readFileSync(nap!.clientCertFile), key: readFileSync(nap!.clientKeyFile), headers: { 'content-type': 'application/json' } },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify(body));
    });
  }

  it('lets the in-flight delivery finish, exits cleanly, and the new worker completes the certificate; the NAP has the message once', async () => {
    const taskQueue = `grace-${Date.now()}`;
    const pair = await Promise.all([startWorkerProcess(taskQueue), startWorkerProcess(taskQueue)]);
    const delivered = /"activity":"deliverReleaseChunk","outcome":"completed"/;
    const deliveryStarted = (worker: RunningCli) => worker.output().split('\n').some((line) => line.includes('"activityType":"deliverReleaseChunk"') && line.includes('"msg":"Activity started"'));
    const vin = nextVin();
    const { certificateId } = await h.ingestOn(taskQueue)(specimenRecord(vin));
    const handle = h.client.workflow.getHandle(certificateId);
    const review = await h.waitForStatus(certificateId, 'in_review', 120_000);
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: review.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release', 60_000);

    expect(await napAdmin('/admin/delay', { ms: NAP_ANSWER_DELAY_MS })).toBe(200);
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    // The NAP has stored the message and holds its answer: the delivery activity is in flight.
    await waitFor(async () => Boolean(await h.nap.received(vin)), { timeoutMs: 60_000, what: 'the message at the NAP' });
    await napAdmin('/admin/delay', { ms: 0 }); // for later calls; the held answer keeps its delay
    const old = pair.find(deliveryStarted)!;
    const replacement = pair.find((worker) => worker !== old)!;
    expect(old, 'the worker running the delivery').toBeDefined();
    // Still in flight as it is told to stop.
    expect(old.output()).not.toMatch(delivered);
    old.child.kill('SIGTERM');
    expect(await old.exited).toBe(0);
    const stopping = old.output().slice(old.output().indexOf('"msg":"stopping"'));
    // It waited for the NAP's answer and finished the delivery itself, rather than abandoning it.
    expect(stopping).toMatch(delivered);
    expect(stopping).not.toContain('worker stopped with an error');
    expect(stopping).toContain('"msg":"stopped cleanly"');

    const done = await h.waitForStatus(certificateId, 'acknowledged', 120_000);
    expect(done.status).toBe('acknowledged');
    expect((await h.nap.received(vin))?.messages).toHaveLength(1);
    expect(await h.db.deliveryReceipt.count({ where: { certificateId } })).toBe(1);
    // The replacement did not deliver again.
    expect(replacement.output()).not.toMatch(delivered);
    replacement.child.kill('SIGTERM');
    expect(await replacement.exited).toBe(0);
  }, 400_000);
});
