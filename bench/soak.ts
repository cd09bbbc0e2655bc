// Soak: N certificates through a real stack (Temporal dev server on a database file, embedded
// PostgreSQL, `ecoc worker` process, NAP simulator over mTLS, OpenSSH SFTP partner) while a fault
// is injected every few seconds, then the chaos invariants (test/support/invariants.ts) once all
// have settled. Reviewer and release clients drive approvals and releases from the status
// projection, as the console does, and retry what a fault made fail.
// Run: npx tsx bench/soak.ts [--certificates 2000] [--fault-every 5s] [--faults N] [--kinds worker-kill,...] [--seed N]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ingestVehicle } from '../certificates/ingest.ts';
import { loadConfig } from '../platform/config.ts';
import { mapWithConcurrency } from '../platform/concurrency.ts';
import { waitFor } from '../platform/wait.ts';
import { startReleaseRun } from '../releases/service.ts';
import { duration } from '../schemas/config/types.ts';
import { seededRandom } from '../test/support/fuzz.ts';
import { SETTLED_STATUSES, type InvariantReport } from '../test/support/invariants.ts';
import { startTestSshd, type TestSshd } from '../test/support/sshd.ts';
import { NAP_DESTINATION, nextVin, specimenRecord } from '../test/support/specimen.ts';
import type { RunningCli } from '../test/support/processes.ts';
import { approveUpdate, certificateWorkflowId, releaseNowUpdate } from '../workflows/certificate/definitions.ts';
import type { Actor, CertificateStatus, ReviewPolicy } from '../schemas/certificate.ts';
import { checkBenchInvariants, invariantFigures, startBenchStack, startWorkerProcess, type BenchStack } from './support/stack.ts';

export const FAULT_KINDS = ['worker-kill', 'temporal-restart', 'postgres-restart', 'nap-unavailable', 'nap-slow', 'sftp-down'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  certificates?: number;
  faultEveryMs?: number;
  /** The kinds to draw from (default: all). */
  kinds?: readonly FaultKind[];
  /** Stop injecting after this many faults (default: until every certificate has settled). */
  maxFaults?: number;
  seed?: number;
}

export interface SoakResult {
  certificates: number;
  seed: number;
  seconds: number;
  faults: Record<FaultKind, number>;
  /** Worker processes the supervisor started again after they exited (kills included). */
  workerRestarts: number;
  report: InvariantReport;
}

const SFTP_DESTINATION = 'partner-sftp';
/** Every n-th certificate goes to the SFTP partner (release runs), the others to the NAP (release now). */
const SFTP_EVERY = 5;
const integrator: Actor = { id: 'soak-erp', roles: ['integrator'] };
const reviewer: Actor = { id: 'soak-reviewer', roles: ['reviewer'] };
const releaser: Actor = { id: 'soak-release', roles: ['release-manager'] };
const review: ReviewPolicy = { escalateAfterMs: 86_400_000, expireAfterMs: 7 * 86_400_000, escalationOwner: 'lead' };
/** Where a certificate of this soak ends: acknowledged by the NAP, delivered to the partner. */
const DONE: readonly CertificateStatus[] = ['acknowledged', 'delivered'];

/** Retries `work` until it succeeds: the faults make calls fail for a while, and every call here is idempotent. */
async function persist<T>(work: () => Promise<T>, stopped: () => boolean): Promise<T | undefined> {
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (stopped()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const count = options.certificates ?? 2000;
  const faultEveryMs = options.faultEveryMs ?? 5_000;
  const seed = options.seed ?? Date.now() % 1_000_000;
  const next = seededRandom(seed);
  const sshd: TestSshd = await startTestSshd();
  const partnerDir = join(sshd.root, 'partner-in');
  mkdirSync(partnerDir);
  const stack: BenchStack = await startBenchStack({ persistentTemporal: true, destinations: [{ id: SFTP_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') }] });
  const taskQueue = `soak-${Date.now()}`;
  let finished = false;
  const stopped = () => finished;
  // The orchestrator's part: a worker that exits (killed, or failing at start while PostgreSQL or
  // Temporal is away) is started again, as systemd or Kubernetes would.
  let workerRestarts = 0;
  const startSupervisedWorker = async (): Promise<RunningCli> => {
    const running = (await persist(() => startWorkerProcess(stack, taskQueue, { ECOC_DELIVERY_TIMEOUT: '10s' }), stopped))!;
    void running.exited.then(async () => {
      if (finished) return;
      workerRestarts += 1;
      worker = await startSupervisedWorker();
    });
    return running;
  };
  let worker: RunningCli = await startSupervisedWorker();
  const config = loadConfig({ ...process.env, ...stack.workerEnv(taskQueue) });
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  const vins = Array.from({ length: count }, () => nextVin());
  const ids = vins.map((vin) => certificateWorkflowId(vin, 1));
  const destinationOf = (index: number) => (index % SFTP_EVERY === SFTP_EVERY - 1 ? SFTP_DESTINATION : NAP_DESTINATION);
  const started = Date.now();

  async function inject(kind: FaultKind): Promise<void> {
    faults[kind] += 1;
    process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s: fault ${kind}\n`);
    switch (kind) {
      case 'worker-kill': {
        // The supervisor starts the next one.
        worker.child.kill('SIGKILL');
        await worker.exited;
        return;
      }
      case 'temporal-restart':
        return stack.restartTemporal();
      case 'postgres-restart':
        return stack.restartPostgres();
      case 'nap-unavailable': {
        await stack.napAdmin('/admin/fault', { calls: 3, status: 503, body: 'fault', retryAfter: 2 });
        return;
      }
      case 'nap-slow': {
        await stack.napAdmin('/admin/delay', { ms: 3_000, calls: 5 });
        return;
      }
      case 'sftp-down': {
        await sshd.stop();
        // Down for about one fault interval: the next fault starts only after it is back.
        await new Promise((resolve) => setTimeout(resolve, faultEveryMs));
        await sshd.start();
      }
    }
  }
  // A shuffled bag of every kind, refilled when empty: random order, and a short run still meets each kind.
  const bag: FaultKind[] = [];
  const draw = (): FaultKind => {
    if (bag.length === 0) bag.push(...[...(options.kinds ?? FAULT_KINDS)].map((kind) => ({ kind, key: next() })).sort((a, b) => a.key - b.key).map(({ kind }) => kind));
    return bag.shift()!;
  };
  const faulting = (async () => {
    for (let injected = 0; !finished && injected < (options.maxFaults ?? Infinity); injected++) {
      await new Promise((resolve) => setTimeout(resolve, faultEveryMs));
      if (finished) break;
      await inject(draw());
    }
  })();

  // The reviewer and release clients: they find their work in the status projection and retry what failed.
  const drive = async () => {
    let releasing = false;
    let reported = Date.now();
    while (!finished) {
      const rows = await persist(() => stack.db.certificate.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, dataVersion: true, destination: true } }), stopped);
      if (!rows) return;
      await mapWithConcurrency(rows.filter((row) => row.status === 'in_review'), 16, (row) =>
        stack.client.workflow.getHandle(row.id).executeUpdate(approveUpdate, { args: [{ actor: reviewer, dataVersion: row.dataVersion }] }).catch(() => undefined),
      );
      const waiting = rows.filter((row) => row.status === 'awaiting_release');
      await mapWithConcurrency(waiting.filter((row) => row.destination !== SFTP_DESTINATION), 16, (row) =>
        stack.client.workflow.getHandle(row.id).executeUpdate(releaseNowUpdate, { args: [{ actor: releaser }] }).catch(() => undefined),
      );
      if (!releasing && waiting.some((row) => row.destination === SFTP_DESTINATION)) {
        releasing = true;
        void startReleaseRun(stack.client, { ...config, ECOC_TASK_QUEUE: taskQueue }, { destination: SFTP_DESTINATION }, releaser)
          .then((run) => stack.client.workflow.getHandle(run.workflowId).result())
          .catch(() => undefined)
          .finally(() => (releasing = false));
      }
      if (Date.now() - reported > 10_000) {
        reported = Date.now();
        const counts: Record<string, number> = {};
        for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
        process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${rows.length} ingested; ${JSON.stringify(counts)}\n`);
      }
      if (rows.length === count && rows.every((row) => SETTLED_STATUSES.includes(row.status as CertificateStatus) && !['in_review', 'awaiting_release'].includes(row.status))) return;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  const ingest = () =>
    mapWithConcurrency(vins, 16, (vin, index) =>
      persist(() => ingestVehicle({ db: stack.db, client: stack.client, taskQueue, review, destinations: [NAP_DESTINATION, SFTP_DESTINATION] }, specimenRecord(vin, { destination: destinationOf(index) }), integrator, 'erp'), stopped),
    );

  let report: InvariantReport;
  try {
    await Promise.all([ingest(), drive()]);
    finished = true;
    await faulting;
    // The last fault may have left a step in its retry backoff: wait for the final states.
    await waitFor(async () => (await stack.db.certificate.count({ where: { id: { in: ids }, status: { in: [...DONE, 'failed'] } } })) === count, {
      timeoutMs: 10 * 60_000,
      intervalMs: 1_000,
      what: `${count} certificates delivered`,
    }).catch(() => undefined);
    report = await checkBenchInvariants(stack, taskQueue, ids, new Map([[SFTP_DESTINATION, partnerDir]]));
  } finally {
    finished = true;
    await faulting.catch(() => undefined);
    worker.child.kill('SIGTERM');
    await worker.exited;
    await stack.stop();
    await sshd.dispose();
  }
  return { certificates: count, seed, seconds: (Date.now() - started) / 1000, faults, workerRestarts, report };
}

export function printSoak(result: SoakResult): void {
  const { report } = result;
  const figures = invariantFigures(report);
  const rows: [string, string | number][] = [
    ...FAULT_KINDS.map((kind): [string, number] => [`faults: ${kind}`, result.faults[kind]]),
    ['worker restarts', result.workerRestarts],
    ['certificates', result.certificates],
    ['delivered once', figures.deliveredOnce],
    ['duplicated', figures.duplicated],
    ['lost', figures.lost],
    ['stuck', figures.stuck],
    ['unverified signatures', figures.unverified],
    ['audit verified', figures.auditVerified ? 'yes' : 'NO'],
  ];
  console.log(`\nSoak: ${result.certificates} certificates, seed ${result.seed}, ${result.seconds.toFixed(0)} s; final states ${JSON.stringify(report.byStatus)}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(28)} ${String(value).padStart(6)}`);
  for (const violation of report.violations.slice(0, 20)) console.log(`  ! ${violation}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { certificates: { type: 'string' }, 'fault-every': { type: 'string' }, faults: { type: 'string' }, kinds: { type: 'string' }, seed: { type: 'string' } } });
  const integer = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw new Error(`--${name}: expected a whole number (got ${JSON.stringify(text)})`);
    return Number(text);
  };
  const every = values['fault-every'] === undefined ? undefined : duration.safeParse(values['fault-every']);
  if (every && !every.success) throw new Error(`--fault-every: expected a duration such as 5s or 500ms (got ${JSON.stringify(values['fault-every'])})`);
  const kinds = values.kinds?.split(',').map((kind) => kind.trim());
  const unknownKinds = kinds?.filter((kind) => !(FAULT_KINDS as readonly string[]).includes(kind)) ?? [];
  if (unknownKinds.length > 0) throw new Error(`--kinds: unknown fault kind(s) ${unknownKinds.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  const result = await runSoak({
    kinds: kinds as FaultKind[] | undefined, certificates: integer('certificates', values.certificates), faultEveryMs: every?.data, maxFaults: integer('faults', values.faults), seed: integer('seed', values.seed) });
  printSoak(result);
  process.exit(result.report.violations.length === 0 ? 0 : 1);
}
