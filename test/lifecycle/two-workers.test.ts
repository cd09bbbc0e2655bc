import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../platform/ports.ts';
import { waitFor } from '../../platform/wait.ts';
import type { CertificateStatus } from '../../schemas/certificate.ts';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';

const COUNT = 30;

interface WorkerUnderTest {
  cli: RunningCli;
  opsPort: number;
}

/**
 * Scale-out: two production workers (`ecoc worker`, each with its own signing pool) poll one task
 * queue; certificates driven to acknowledged are shared between them, and each still finishes
 * exactly once.
 */
describe('two worker processes on one task queue', () => {
  let h: LifecycleHarness;
  const workers: WorkerUnderTest[] = [];

  beforeAll(async () => {
    // The harness's in-process worker serves its own queue; the two processes under test get another.
    h = await startLifecycleHarness();
  });
  afterAll(async () => {
    for (const { cli } of workers) {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    await h?.stop();
  });

  async function startWorker(taskQueue: string): Promise<WorkerUnderTest> {
    const opsPort = await freePort();
    const cli = runCli(['worker'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: taskQueue,
      // The same data directory: both sign with the harness's software key.
      ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      // Two processes on the test machine's cores: one signing thread each.
      ECOC_SIGNING_THREADS: '1',
      ECOC_WORKER_OPS_PORT: String(opsPort),
      ECOC_LOG_LEVEL: 'warn',
    });
    const worker = { cli, opsPort };
    workers.push(worker);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 120_000,
      what: 'ecoc worker ready',
      fatal: () => cli.child.exitCode !== null,
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${cli.output()}`, { cause: error });
    });
    return worker;
  }

  /** Waits until every certificate is in `status`, asking each workflow at most once a second (the queries run on the workers under test). */
  async function allReach(ids: string[], status: CertificateStatus): Promise<void> {
    const pending = new Set(ids);
    let failed: string | undefined;
    await waitFor(
      async () => {
        for (const id of pending) {
          const state = await h.status(id);
          if (state.status === status) pending.delete(id);
          else if (state.status === 'failed') failed = `${id} failed in ${state.failure?.step}: ${state.failure?.reason}`;
        }
        if (failed) throw new Error(failed);
        return pending.size === 0;
      },
      { timeoutMs: 150_000, intervalMs: 1_000, what: `${ids.length} certificates ${status}`, fatal: () => failed !== undefined },
    );
  }

  /** Activity executions this process finished, from its own /metrics. */
  async function executions(worker: WorkerUnderTest): Promise<number> {
    const metrics = await (await fetch(`http://127.0.0.1:${worker.opsPort}/metrics`)).text();
    return metrics
      .split('\n')
      .filter((line) => line.startsWith('ecoc_activity_executions_total{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  it(`shares ${COUNT} certificates between both processes; every one is signed, delivered and acknowledged once`, async () => {
    const taskQueue = `two-workers-${Date.now()}`;
    const pair = await Promise.all([startWorker(taskQueue), startWorker(taskQueue)]);
    const ingest = h.ingestOn(taskQueue);
    const vins = Array.from({ length: COUNT }, () => nextVin());
    const ids = await Promise.all(vins.map(async (vin) => (await ingest(specimenRecord(vin))).certificateId));

    await allReach(ids, 'in_review');
    for (const id of ids) {
      const review = await h.status(id);
      await h.client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: review.dataVersion }] });
    }
    await allReach(ids, 'awaiting_release');
    await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] })));
    await allReach(ids, 'acknowledged');

    // The certificate rows follow the workflows (their next audit write); settled before they are read.
    await waitFor(async () => (await h.db.certificate.count({ where: { id: { in: ids }, status: 'acknowledged' } })) === COUNT, { timeoutMs: 30_000, what: 'the certificate rows acknowledged' });
    const report = await assertInvariants({ db: h.db, accepted: ids, signingCertificatePem: h.signer.certificatePem, naps: h.naps, audit: { config: h.config } });
    expect(report.byStatus).toEqual({ acknowledged: COUNT });
    expect(report.deliveredOnce).toBe(COUNT);
    const perProcess = await Promise.all(pair.map(executions));
    expect(perProcess.every((count) => count > 0), `activity executions per process: ${perProcess.join(', ')}`).toBe(true);
  }, 300_000);
});
