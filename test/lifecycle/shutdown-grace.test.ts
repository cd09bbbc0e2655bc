import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleWorkflows } from '../../platform/temporal/bundle.ts';
import { waitFor } from '../../platform/wait.ts';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';

/** How long the NAP holds its answer: the delivery is in flight when SIGTERM arrives. */
const NAP_ANSWER_DELAY_MS = 8_000;

/**
 * The production worker (`ecoc worker`) gets SIGTERM while a delivery to the NAP is in flight (the
 * NAP has the message and holds its answer): within ECOC_WORKER_SHUTDOWN_GRACE the worker stops
 * polling, lets the delivery finish, reports it and exits 0. A new worker then carries the
 * certificate on to acknowledged, and the NAP has the message exactly once.
 */
describe('worker shutdown grace (SIGTERM mid-delivery)', () => {
  let h: LifecycleHarness;
  let bundlePath: string;
  let worker: RunningCli | undefined;

  beforeAll(async () => {
    const [harness, code] = await Promise.all([startLifecycleHarness(), bundleWorkflows()]);
    h = harness;
    bundlePath = join(h.config.ECOC_DATA_DIR, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
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

  it('lets the in-flight delivery finish, exits cleanly, and a new worker completes the certificate; the NAP has the message once', async () => {
    const taskQueue = `grace-${Date.now()}`;
    worker = await startWorkerProcess(taskQueue);
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
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const stopping = worker.output().slice(worker.output().indexOf('"msg":"stopping"'));
    // It waited for the NAP's answer and finished the delivery itself, rather than abandoning it.
    expect(Date.now() - signalled).toBeGreaterThan(NAP_ANSWER_DELAY_MS / 2);
    expect(stopping).toMatch(/"activity":"deliverReleaseChunk","outcome":"completed"/);
    expect(stopping).toContain('"msg":"stopped cleanly"');
    expect(await napAdmin('/admin/delay', { ms: 0 })).toBe(200);

    worker = await startWorkerProcess(taskQueue);
    const done = await h.waitForStatus(certificateId, 'acknowledged', 120_000);
    expect(done.status).toBe('acknowledged');
    expect((await h.nap.received(vin))?.messages).toHaveLength(1);
    expect(await h.db.deliveryReceipt.count({ where: { certificateId } })).toBe(1);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 400_000);
});
