// Batch release to one SFTP partner (real OpenSSH sshd): certificates are first brought to
// awaiting_release the honest way (ingest → validate → generate → review approved → sign, on an
// `ecoc worker` process), then one release run delivers them all; both phases are timed.
// Run: npx tsx bench/release.ts [--count 10000] [--chunk-size 200] [--concurrency 4] [--seed-concurrency 32]
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ingestVehicle } from '../certificates/ingest.ts';
import { mapWithConcurrency } from '../platform/concurrency.ts';
import { loadConfig } from '../platform/config.ts';
import { waitFor } from '../platform/wait.ts';
import { releaseRunProgress, startReleaseRun } from '../releases/service.ts';
import { startTestSshd } from '../test/support/sshd.ts';
import { readPackages } from '../test/support/release.ts';
import { nextVin, specimenRecord } from '../test/support/specimen.ts';
import { approveUpdate, certificateWorkflowId } from '../workflows/certificate/definitions.ts';
import type { Actor, ReviewPolicy } from '../schemas/certificate.ts';
import type { ReleaseProgress } from '../workflows/release/definitions.ts';
import { startBenchStack, startWorkerProcess, type BenchStack } from './support/stack.ts';

export interface ReleaseBenchOptions {
  /** Signed certificates to release. */
  count?: number;
  chunkSize?: number;
  concurrency?: number;
  /** Ingest and approval calls in flight while seeding. */
  seedConcurrency?: number;
}

export interface ReleaseBenchResult {
  count: number;
  seed: { seconds: number; perSecond: number };
  release: { seconds: number; perSecond: number; packages: number; generations: number; chunkSize: number; concurrency: number };
}

const DESTINATION = 'partner-sftp';
const integrator: Actor = { id: 'bench-erp', roles: ['integrator'] };
const reviewer: Actor = { id: 'bench-reviewer', roles: ['reviewer'] };
const releaser: Actor = { id: 'bench-release', roles: ['release-manager'] };
const review: ReviewPolicy = { escalateAfterMs: 86_400_000, expireAfterMs: 7 * 86_400_000, escalationOwner: 'lead' };

export async function runReleaseBench(options: ReleaseBenchOptions = {}): Promise<ReleaseBenchResult> {
  const count = options.count ?? 10_000;
  const chunkSize = options.chunkSize ?? 200;
  const concurrency = options.concurrency ?? 4;
  const sshd = await startTestSshd();
  const partnerDir = join(sshd.root, 'partner-in');
  mkdirSync(partnerDir);
  const stack = await startBenchStack({ destinations: [{ id: DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') }] });
  try {
    const taskQueue = `bench-release-${Date.now()}`;
    const worker = await startWorkerProcess(stack, taskQueue);
    const config = loadConfig(stack.workerEnv(taskQueue));

    const seedStarted = Date.now();
    const ids = await seed(stack, taskQueue, count, options.seedConcurrency ?? 32);
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    const releaseStarted = Date.now();
    const run = await startReleaseRun(stack.client, config, { destination: DESTINATION, batchSize: count, chunkSize, concurrency }, releaser);
    let last = '';
    await waitFor(
      async () => {
        const status = await releaseRunProgress(stack.client, config, { destination: DESTINATION }, releaser);
        const line = `  release ${((Date.now() - releaseStarted) / 1000).toFixed(0)} s: claimed ${status.progress.claimed} delivered ${status.progress.delivered} failed ${status.progress.failed}`;
        if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
        if (status.status !== 'RUNNING' && status.status !== 'COMPLETED') throw new Error(`release ended ${status.status}`);
        return status.status === 'COMPLETED';
      },
      { timeoutMs: 2 * 3_600_000, intervalMs: 2_000, what: 'the release run' },
    );
    const summary = (await stack.client.workflow.getHandle(run.workflowId).result()) as ReleaseProgress;
    const releaseSeconds = (new Date(summary.finishedAt!).getTime() - new Date(summary.startedAt).getTime()) / 1000;

    // Exactly once, checked on the partner's side.
    const packages = await readPackages(partnerDir);
    const vins = new Set(packages.flatMap((p) => p.manifest.files.map((file) => file.vin)));
    const files = packages.reduce((total, p) => total + p.manifest.count, 0);
    if (summary.delivered !== count || files !== count || vins.size !== count || readdirSync(partnerDir).length !== packages.length) {
      throw new Error(`expected ${count} certificates delivered once: run says ${summary.delivered}, packages hold ${files} files for ${vins.size} VINs`);
    }
    const acknowledged = await stack.db.certificate.count({ where: { id: { in: ids }, status: 'delivered' } });
    process.stderr.write(`  ${acknowledged}/${count} certificates in state delivered (waiting for the partner's acknowledgements)\n`);

    worker.child.kill('SIGTERM');
    await worker.exited;
    return {
      count,
      seed: { seconds: seedSeconds, perSecond: count / seedSeconds },
      release: { seconds: releaseSeconds, perSecond: count / releaseSeconds, packages: packages.length, generations: summary.generation + 1, chunkSize, concurrency },
    };
  } finally {
    await stack.stop();
    await sshd.dispose();
  }
}

/** Ingests `count` vehicles and approves each as it reaches review; returns when all are awaiting release. */
async function seed(stack: BenchStack, taskQueue: string, count: number, concurrency: number): Promise<string[]> {
  const context = { db: stack.db, client: stack.client, taskQueue, review, destinations: [DESTINATION] };
  const vins = Array.from({ length: count }, () => nextVin());
  const ids = vins.map((vin) => certificateWorkflowId(vin, 1));
  const approved = new Set<string>();
  const started = Date.now();
  let lastReport = started;
  let ingesting = true;
  const ingest = async () => {
    try {
      await mapWithConcurrency(vins, concurrency, (vin) => ingestVehicle(context, specimenRecord(vin, { destination: DESTINATION }), integrator, 'erp'));
    } finally {
      ingesting = false;
    }
  };
  // The reviewer finds work in the status projection, as the console does.
  const approve = async () => {
    for (;;) {
      const counts = await stack.db.certificate.groupBy({ by: ['status'], where: { id: { in: ids } }, _count: true });
      const byStatus = Object.fromEntries(counts.map((c) => [c.status, c._count]));
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        process.stderr.write(`  seed ${((Date.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(byStatus)}\n`);
      }
      if (!ingesting && byStatus.awaiting_release === count) return;
      if ((byStatus.failed ?? 0) > 0 || (byStatus.blocked ?? 0) > 0) throw new Error(`seeding went wrong: ${JSON.stringify(byStatus)}`);
      const inReview = await stack.db.certificate.findMany({ where: { id: { in: ids }, status: 'in_review' }, select: { id: true, dataVersion: true } });
      const todo = inReview.filter((c) => !approved.has(c.id));
      todo.forEach((c) => approved.add(c.id));
      await mapWithConcurrency(todo, concurrency, (c) =>
        stack.client.workflow.getHandle(c.id).executeUpdate(approveUpdate, { args: [{ actor: reviewer, dataVersion: c.dataVersion }] }),
      );
      if (todo.length === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  await Promise.all([ingest(), approve()]);
  return ids;
}

export function printReleaseBench(result: ReleaseBenchResult): void {
  console.log(`\nBatch release to one SFTP partner (${result.count} signed certificates):`);
  console.log(`  seeding through the full pipeline: ${result.seed.seconds.toFixed(1)} s (${result.seed.perSecond.toFixed(1)} certificates/s)`);
  console.log(
    `  release run: ${result.release.seconds.toFixed(1)} s (${result.release.perSecond.toFixed(1)} certificates/s), ${result.release.packages} packages of ≤ ${result.release.chunkSize}, ` +
      `${result.release.concurrency} in flight, continued as new ${result.release.generations - 1} time(s)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { count: { type: 'string' }, 'chunk-size': { type: 'string' }, concurrency: { type: 'string' }, 'seed-concurrency': { type: 'string' } },
  });
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  printReleaseBench(
    await runReleaseBench({
      count: number(values.count),
      chunkSize: number(values['chunk-size']),
      concurrency: number(values.concurrency),
      seedConcurrency: number(values['seed-concurrency']),
    }),
  );
}
