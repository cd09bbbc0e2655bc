// End-to-end certificate throughput through the real stack (Temporal dev server, PostgreSQL,
// `ecoc worker` process, NAP simulator over mTLS) with a reviewer client approving, compared with
// the bare engine (a no-op workflow with exactly the activities, local activities, Updates and
// children one certificate caused, counted from its history) on the same server, and with the
// same steps run in-process without Temporal; then worker memory with certificates parked in review.
// With --kill-worker-at N the worker is SIGKILLed once N certificates are acknowledged and started
// again; every run ends with the chaos invariants over its certificates (nothing lost or sent twice).
// Run: npx tsx bench/lifecycle.ts [--certificates 1000] [--parked 10000] [--concurrency 64] [--kill-worker-at N]
import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { iviHeader, loadCertificateData } from '../certificates/certificate-data.ts';
import { ingestVehicle } from '../certificates/ingest.ts';
import { storeDataVersion } from '../certificates/store.ts';
import { createDeliveryChannel, loadDestinations } from '../connectors/delivery/destinations.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../connectors/hsm/software.ts';
import { checkCertificate } from '../ivi/rules/index.ts';
import { writeIvi } from '../ivi/writer.ts';
import { waitFor } from '../platform/wait.ts';
import type { CocDataGroup, IviMessage } from '../schemas/ivi/index.ts';
import { signAndCheck } from '../signing/sign-and-check.ts';
import { HISTORIES_DIR } from '../test/support/histories.ts';
import type { InvariantReport } from '../test/support/invariants.ts';
import { NAP_DESTINATION, nextVin, specimenRecord } from '../test/support/specimen.ts';
import { approveUpdate, certificateWorkflowId, releaseNowUpdate, statusQuery } from '../workflows/certificate/definitions.ts';
import type { Actor, ReviewPolicy } from '../schemas/certificate.ts';
import { bareStepUpdate, BARE_WORKFLOW_TYPE, type WorkflowShape } from './support/bare-definitions.ts';
import { describeShape, shapeOf, shapeOfWorkflow, totals } from './support/shape.ts';
import { checkBenchInvariants, invariantFigures, startBareWorkerProcess, startBenchStack, startWorkerProcess, type BenchStack } from './support/stack.ts';

export interface LifecycleBenchOptions {
  certificates?: number;
  /** Certificates left in review to measure worker memory; 0 skips that phase. */
  parked?: number;
  concurrency?: number;
  /** SIGKILL the worker once this many certificates are acknowledged, then start another. */
  killWorkerAt?: number;
}

export interface StageTimes {
  p50: number;
  p99: number;
}

export interface LifecycleBenchResult {
  certificates: number;
  seconds: number;
  perSecond: number;
  stages: Record<string, StageTimes>;
  inProcess: { certificates: number; perSecond: number };
  ratio: number;
  /** What one certificate of this run cost the engine, and what one cost before (recorded v2 histories). */
  shape: WorkflowShape;
  shapeBefore: WorkflowShape;
  /** The same number of bare workflows of that shape, same server, same concurrency. */
  bare: { workflows: number; perSecond: number };
  ratioToBare: number;
  /** The end-to-end run's certificates checked as the chaos suite does. */
  invariants: InvariantReport;
  /** When the worker was killed: how many were acknowledged then, and how long until a new one polled. */
  workerKilled?: { atAcknowledged: number; restartSeconds: number };
  parked?: {
    certificates: number;
    seconds: number;
    perSecond: number;
    workerRssMiB: number;
    /** What parking one certificate cost the engine, and the bare engine's rate for that shape. */
    shape: WorkflowShape;
    bare: { workflows: number; perSecond: number };
    ratioToBare: number;
  };
}

const integrator: Actor = { id: 'bench-erp', roles: ['integrator'] };
const reviewer: Actor = { id: 'bench-reviewer', roles: ['reviewer'] };
const releaser: Actor = { id: 'bench-release', roles: ['release-manager'] };
const review: ReviewPolicy = { escalateAfterMs: 86_400_000, expireAfterMs: 7 * 86_400_000, escalationOwner: 'lead' };

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Stage durations per certificate from the audit trail the workflow writes. */
async function stageTimes(stack: BenchStack, ids: string[]): Promise<Record<string, StageTimes>> {
  const rows = await stack.db.auditRecord.findMany({ where: { certificateId: { in: ids } }, select: { certificateId: true, action: true, occurredAt: true } });
  const at = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const map = at.get(row.certificateId!) ?? new Map<string, number>();
    if (!map.has(row.action)) map.set(row.action, row.occurredAt.getTime());
    at.set(row.certificateId!, map);
  }
  const stages: [string, string, string][] = [
    ['validate+generate', 'ingested', 'status:in_review'],
    ['review (client)', 'status:in_review', 'status:approved'],
    ['sign', 'status:approved', 'status:awaiting_release'],
    ['release (client)', 'status:awaiting_release', 'status:delivering'],
    ['deliver', 'status:delivering', 'status:acknowledged'],
    ['total', 'ingested', 'status:acknowledged'],
  ];
  return Object.fromEntries(
    stages.map(([name, from, to]) => {
      const durations = [...at.values()]
        .map((map) => (map.get(to) ?? NaN) - (map.get(from) ?? NaN))
        .filter((ms) => Number.isFinite(ms))
        .sort((a, b) => a - b);
      return [name, { p50: percentile(durations, 50), p99: percentile(durations, 99) }];
    }),
  );
}

async function endToEnd(
  stack: BenchStack,
  count: number,
  concurrency: number,
  killWorkerAt: number | undefined,
): Promise<Pick<LifecycleBenchResult, 'certificates' | 'seconds' | 'perSecond' | 'stages' | 'shape' | 'invariants' | 'workerKilled'>> {
  const taskQueue = `bench-e2e-${Date.now()}`;
  let worker = await startWorkerProcess(stack, taskQueue);
  const context = { db: stack.db, client: stack.client, taskQueue, review, destinations: [NAP_DESTINATION] };
  const vins = Array.from({ length: count }, () => nextVin());
  const ids = vins.map((vin) => certificateWorkflowId(vin, 1));
  const approved = new Set<string>();
  const released = new Set<string>();
  const started = Date.now();
  let ingesting = true;

  // The reviewer and release clients: they find their work in the status projection, as the console does.
  const drive = async () => {
    while (ingesting || released.size < count) {
      const ready = await stack.db.certificate.findMany({
        where: { id: { in: ids }, status: { in: ['in_review', 'awaiting_release'] } },
        select: { id: true, status: true, dataVersion: true },
      });
      const todo = ready.filter((c) => (c.status === 'in_review' ? !approved.has(c.id) : !released.has(c.id)));
      await pool(todo, concurrency, async (c) => {
        const handle = stack.client.workflow.getHandle(c.id);
        if (c.status === 'in_review') {
          approved.add(c.id);
          await handle.executeUpdate(approveUpdate, { args: [{ actor: reviewer, dataVersion: c.dataVersion }] });
        } else {
          released.add(c.id);
          await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: releaser }] });
        }
      });
      if (todo.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      if (Date.now() - lastReport > 5_000) {
        lastReport = Date.now();
        const counts = await stack.db.certificate.groupBy({ by: ['status'], where: { id: { in: ids } }, _count: true });
        process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${counts.map((c) => `${c.status} ${c._count}`).join(', ')}\n`);
        const failed = await stack.db.certificate.findFirst({ where: { id: { in: ids }, status: 'failed' }, select: { id: true } });
        if (failed) throw new Error(`${failed.id} failed: ${JSON.stringify((await stack.client.workflow.getHandle(failed.id).query(statusQuery)).failure)}`);
      }
    }
  };
  let lastReport = Date.now();
  const ingest = async () => {
    try {
      await pool(vins, concurrency, (vin) => ingestVehicle(context, specimenRecord(vin), integrator, 'erp'));
    } finally {
      ingesting = false;
    }
  };
  const acknowledged = () => stack.db.certificate.count({ where: { id: { in: ids }, status: 'acknowledged' } });
  let workerKilled: LifecycleBenchResult['workerKilled'];
  const kill = async () => {
    if (killWorkerAt === undefined) return;
    await waitFor(async () => (await acknowledged()) >= killWorkerAt, { timeoutMs: 30 * 60_000, intervalMs: 200, what: `${killWorkerAt} acknowledged certificates` });
    const atAcknowledged = await acknowledged();
    const killedAt = Date.now();
    worker.child.kill('SIGKILL');
    await worker.exited;
    process.stderr.write(`  worker SIGKILLed with ${atAcknowledged} acknowledged; starting another\n`);
    worker = await startWorkerProcess(stack, taskQueue);
    workerKilled = { atAcknowledged, restartSeconds: (Date.now() - killedAt) / 1000 };
  };
  await Promise.all([drive(), ingest(), kill()]);
  await waitFor(async () => (await acknowledged()) === count, { timeoutMs: 30 * 60_000, what: `${count} acknowledged certificates` });
  const seconds = (Date.now() - started) / 1000;
  worker.child.kill('SIGTERM');
  await worker.exited;
  return {
    certificates: count,
    seconds,
    perSecond: count / seconds,
    stages: await stageTimes(stack, ids),
    shape: await shapeOfWorkflow(stack.client, ids[0]!),
    invariants: await checkBenchInvariants(stack, taskQueue, ids),
    ...(workerKilled ? { workerKilled } : {}),
  };
}

/** The v2 happy path and its batch of one, as recorded before validate+generate became one step. */
function shapeBefore(): Promise<WorkflowShape> {
  const read = (name: string) => historyFromJSON(JSON.parse(readFileSync(`${HISTORIES_DIR}${name}`, 'utf8')));
  const child = read('v2-release-now-batch.json');
  return shapeOf(read('v2-happy-path.json'), async () => child);
}

/**
 * The ceiling: `count` bare workflows of the certificate's shape on a bare worker process, each
 * started and sent its Updates by this process with at most `concurrency` in flight.
 */
async function bareEngine(stack: BenchStack, shape: WorkflowShape, count: number, concurrency: number): Promise<{ workflows: number; perSecond: number }> {
  const taskQueue = `bench-bare-${Date.now()}`;
  const worker = await startBareWorkerProcess(stack, taskQueue);
  // The driver sends every Update of the certificate and its children to the bare top workflow.
  const withoutUpdates = (child: WorkflowShape): WorkflowShape => ({ ...child, updates: 0, children: child.children.map(withoutUpdates) });
  const args: WorkflowShape = { ...shape, updates: totals(shape).updates, children: shape.children.map(withoutUpdates) };
  const started = Date.now();
  await pool(Array.from({ length: count }, (_, index) => `bare-${taskQueue}-${index}`), concurrency, async (workflowId) => {
    const handle = await stack.client.workflow.start(BARE_WORKFLOW_TYPE, { taskQueue, workflowId, args: [args] });
    for (let i = 0; i < args.updates; i++) await handle.executeUpdate(bareStepUpdate);
    await handle.result();
  });
  const seconds = (Date.now() - started) / 1000;
  worker.child.kill('SIGTERM');
  await worker.exited;
  return { workflows: count, perSecond: count / seconds };
}

/** The same steps as plain function calls: store, validate, generate, sign, deliver. */
async function inProcess(stack: BenchStack, count: number, concurrency: number): Promise<{ certificates: number; perSecond: number }> {
  const env = stack.workerEnv('unused');
  const signer = await openSoftwareSigner(await ensureSoftwareKey(env.ECOC_DATA_DIR!));
  const destinations = await loadDestinations(env.ECOC_DESTINATIONS_FILE);
  const channel = await createDeliveryChannel(destinations, NAP_DESTINATION, { logger: stack.logger, timeoutMs: 30_000 });
  const vins = Array.from({ length: count }, () => nextVin());
  const started = Date.now();
  await pool(vins, concurrency, async (vin) => {
    const id = certificateWorkflowId(vin, 1);
    const record = specimenRecord(vin);
    const stored = await storeDataVersion(stack.db, id, record, { source: 'erp', submittedBy: integrator.id });
    const data = await loadCertificateData(stack.db, id, stored.dataVersion);
    const iviReferenceId = crypto.randomUUID();
    const header = iviHeader(record, { iviReferenceId, messageVersion: 1, at: new Date() });
    if (checkCertificate({ header, cocDataGroup: data.values }).some((f) => f.severity === 'error')) throw new Error(`${vin} has findings`);
    const xml = writeIvi({ header, cocDataGroup: data.values as CocDataGroup } as IviMessage);
    const signed = await signAndCheck(xml, signer);
    const [outcome] = await channel.deliver({ packageId: `bench-${iviReferenceId}`, createdAt: new Date(0).toISOString(), messages: [{ vin, iviReferenceId, iviVersionNumber: 1, xml: Buffer.from(signed.signedXml) }] });
    if (outcome?.status !== 'delivered') throw new Error(`${vin}: ${outcome?.status === 'rejected' ? outcome.code : outcome?.status}`);
  });
  const seconds = (Date.now() - started) / 1000;
  await channel.close();
  await signer.close();
  return { certificates: count, perSecond: count / seconds };
}

async function parkedInReview(stack: BenchStack, count: number, concurrency: number): Promise<NonNullable<LifecycleBenchResult['parked']>> {
  const taskQueue = `bench-parked-${Date.now()}`;
  const worker = await startWorkerProcess(stack, taskQueue);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(worker.child.pid!))), 500);
  const context = { db: stack.db, client: stack.client, taskQueue, review, destinations: [NAP_DESTINATION] };
  const vins = Array.from({ length: count }, () => nextVin());
  const ids = vins.map((vin) => certificateWorkflowId(vin, 1));
  const started = Date.now();
  let done = 0;
  await pool(vins, concurrency, async (vin) => {
    await ingestVehicle(context, specimenRecord(vin), integrator, 'erp');
    done += 1;
    if (done % 1000 === 0) process.stderr.write(`  parked: ${done}/${count} ingested\n`);
  });
  await waitFor(async () => (await stack.db.certificate.count({ where: { id: { in: ids }, status: 'in_review' } })) === count, {
    timeoutMs: 60 * 60_000,
    what: `${count} certificates in review`,
    intervalMs: 2_000,
  });
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(worker.child.pid!));
  worker.child.kill('SIGTERM');
  await worker.exited;
  // The ceiling for parking: bare workflows of what one parked certificate has cost the engine so far.
  const shape = await shapeOfWorkflow(stack.client, ids[0]!);
  const bare = await bareEngine(stack, shape, count, concurrency);
  return { certificates: count, seconds, perSecond: count / seconds, workerRssMiB: Math.round(peak), shape, bare, ratioToBare: count / seconds / bare.perSecond };
}

export async function runLifecycleBench(options: LifecycleBenchOptions = {}): Promise<LifecycleBenchResult> {
  const certificates = options.certificates ?? 1000;
  const concurrency = options.concurrency ?? 64;
  if (options.killWorkerAt !== undefined && !(Number.isInteger(options.killWorkerAt) && options.killWorkerAt >= 0 && options.killWorkerAt < certificates)) {
    throw new Error(`--kill-worker-at: expected a whole number below --certificates (${certificates}), got ${options.killWorkerAt}`);
  }
  const stack = await startBenchStack();
  try {
    const e2e = await endToEnd(stack, certificates, concurrency, options.killWorkerAt);
    const bare = await bareEngine(stack, e2e.shape, certificates, concurrency);
    const local = await inProcess(stack, certificates, concurrency);
    const parked = options.parked === 0 ? undefined : await parkedInReview(stack, options.parked ?? 10_000, concurrency);
    return {
      ...e2e,
      shapeBefore: await shapeBefore(),
      bare,
      ratioToBare: e2e.perSecond / bare.perSecond,
      inProcess: local,
      ratio: e2e.perSecond / local.perSecond,
      ...(parked ? { parked } : {}),
    };
  } finally {
    await stack.stop();
  }
}

export function printLifecycleBench(result: LifecycleBenchResult): void {
  console.log(`\nCertificate lifecycle, end to end (${result.certificates} certificates, reviewer + release clients):`);
  console.log(`  per certificate now: ${describeShape(result.shape)}`);
  console.log(`  per certificate before (recorded v2 histories): ${describeShape(result.shapeBefore)}`);
  console.log(`  ${result.perSecond.toFixed(1)} certificates/s through Temporal (${result.seconds.toFixed(1)} s)`);
  console.log(`  ${result.bare.perSecond.toFixed(1)} workflows/s bare engine, same shape, same server (${result.bare.workflows} workflows)`);
  console.log(`  ratio to bare engine: ${result.ratioToBare.toFixed(2)}   target ≥ 0.8`);
  console.log(`  ${result.inProcess.perSecond.toFixed(1)} certificates/s in-process without Temporal   ratio ${result.ratio.toFixed(2)}`);
  console.log('  stage                 p50 ms    p99 ms');
  for (const [stage, times] of Object.entries(result.stages)) console.log(`  ${stage.padEnd(20)} ${String(times.p50).padStart(7)} ${String(times.p99).padStart(9)}`);
  if (result.workerKilled) {
    console.log(`  worker SIGKILLed with ${result.workerKilled.atAcknowledged} acknowledged, a new one polling ${result.workerKilled.restartSeconds.toFixed(1)} s later`);
  }
  const figures = invariantFigures(result.invariants);
  console.log(
    `  invariants: delivered once ${figures.deliveredOnce} of ${result.certificates}, duplicated ${figures.duplicated}, lost ${figures.lost}, stuck ${figures.stuck}, unverified ${figures.unverified}, audit ${figures.auditVerified ? 'verified' : 'NOT verified'}`,
  );
  for (const violation of result.invariants.violations.slice(0, 20)) console.log(`  ! ${violation}`);
  if (result.parked) {
    const parked = result.parked;
    console.log(`  ${parked.certificates} parked in review after ${parked.seconds.toFixed(0)} s: worker RSS ${parked.workerRssMiB} MiB   target < 1024 MiB`);
    console.log(`  parking: ${parked.perSecond.toFixed(1)} certificates/s (${describeShape(parked.shape)}); bare engine, that shape: ${parked.bare.perSecond.toFixed(1)} workflows/s; ratio ${parked.ratioToBare.toFixed(2)}   target ≥ 0.8`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { certificates: { type: 'string' }, parked: { type: 'string' }, concurrency: { type: 'string' }, 'kill-worker-at': { type: 'string' } } });
  const result = await runLifecycleBench({
    certificates: values.certificates ? Number(values.certificates) : undefined,
    parked: values.parked !== undefined ? Number(values.parked) : undefined,
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
    killWorkerAt: values['kill-worker-at'] !== undefined ? Number(values['kill-worker-at']) : undefined,
  });
  printLifecycleBench(result);
  if (result.invariants.violations.length > 0) process.exitCode = 1;
}
