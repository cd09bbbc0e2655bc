// API latency under load: the status route (GET /api/v1/certificates/:id/status, the certificate
// row) and its live variant (?live=true, a Temporal query answered by the worker, which replays
// workflows it no longer caches) at 100 concurrent clients while 10,000 certificates wait in review,
// on the real stack (Temporal dev server, PostgreSQL, `ecoc worker` process, the API in this process).
// Seeding goes through the real ingest route in parallel batches. Target: p99 <= 50 ms.
// Run: npx tsx bench/api.ts [--certificates 10000] [--clients 100] [--seconds 30]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createApp } from '../api/app.ts';
import { listen } from '../api/server.ts';
import { createApiKey } from '../auth/api-keys.ts';
import { loadConfig } from '../platform/config.ts';
import { freePort } from '../platform/ports.ts';
import { waitFor } from '../platform/wait.ts';
import { nextVin, specimenRecord } from '../test/support/specimen.ts';
import { startBenchStack, startWorkerProcess } from './support/stack.ts';

export interface ApiBenchOptions {
  certificates?: number;
  clients?: number;
  seconds?: number;
  /** Records per ingest call and calls in flight while seeding. */
  batch?: number;
  seedConcurrency?: number;
}

export interface LatencySummary {
  requests: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
}

export interface ApiBenchResult {
  certificates: number;
  inReview: number;
  seedSeconds: number;
  seedPerSecond: number;
  clients: number;
  status: LatencySummary;
  /** The status route with ?live=true (a Temporal query). */
  live: LatencySummary;
  /** The projection-backed list (first page filtered by status), for comparison. */
  list: LatencySummary;
  /** The status route for ids that do not exist (404), same load. */
  unknown: LatencySummary;
  /** The same 404s from one client: the route's own latency, without the queueing of 100 clients. */
  unknownOneClient: LatencySummary;
}

function summary(latencies: number[], errors: number, seconds: number): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 10) / 10;
  return { requests: sorted.length, perSecond: Math.round(sorted.length / seconds), p50: at(50), p90: at(90), p99: at(99), max: at(100), errors };
}

/** `clients` loops, each sending one request after the other, for `seconds`; an answer other than `expected` counts as an error. */
async function load(clients: number, seconds: number, request: () => Promise<Response>, expected = 200): Promise<LatencySummary> {
  const latencies: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        const started = performance.now();
        const response = await request().catch(() => undefined);
        if (response) await response.arrayBuffer();
        if (response?.status !== expected) errors += 1;
        else latencies.push(performance.now() - started);
      }
    }),
  );
  return summary(latencies, errors, seconds);
}

export async function runApiBench(options: ApiBenchOptions = {}): Promise<ApiBenchResult> {
  const count = options.certificates ?? 10_000;
  const clients = options.clients ?? 100;
  const seconds = options.seconds ?? 30;
  const batch = options.batch ?? 100;
  const stack = await startBenchStack();
  const taskQueue = `bench-api-${Date.now()}`;
  const worker = await startWorkerProcess(stack, taskQueue);
  const config = loadConfig({ ...stack.workerEnv(taskQueue), ECOC_API_RATE_PER_SECOND: '1000000', ECOC_API_RATE_BURST: '1000000', ECOC_API_REQUEST_TIMEOUT: '120s' });
  const { app } = createApp({
    db: stack.db,
    client: stack.client,
    taskQueue,
    review: { escalateAfterMs: 86_400_000, expireAfterMs: 7 * 86_400_000, escalationOwner: 'lead' },
    config,
    logger: stack.logger,
    readinessProbes: {},
    metrics: new Registry(),
    oidc: undefined,
  });
  const api = await listen(app, '127.0.0.1', await freePort());
  try {
    const { token: integrator } = await createApiKey(stack.db, { subject: 'bench-erp', roles: ['integrator'], manufacturers: ['acme'], createdBy: 'bench' });
    const { token: reader } = await createApiKey(stack.db, { subject: 'bench-ops', roles: ['ops'], manufacturers: ['*'], createdBy: 'bench' });
    const vins = Array.from({ length: count }, () => nextVin());
    const batches = Array.from({ length: Math.ceil(count / batch) }, (_, index) => vins.slice(index * batch, (index + 1) * batch));
    const seedStarted = Date.now();
    let next = 0;
    let lastReport = Date.now();
    await Promise.all(
      Array.from({ length: options.seedConcurrency ?? 4 }, async () => {
        while (next < batches.length) {
          const records = batches[next++]!.map((vin) => specimenRecord(vin));
          const response = await fetch(`${api.url}/api/v1/vehicles`, {
            method: 'POST',
            headers: { authorization: `Bearer ${integrator}`, 'content-type': 'application/json' },
            body: JSON.stringify({ records }),
          });
          const body = (await response.json()) as { accepted?: number };
          if (response.status !== 200 || body.accepted !== records.length) throw new Error(`ingest batch failed: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
          if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            process.stderr.write(`  seeding: ${next * batch} of ${count} ingested after ${((Date.now() - seedStarted) / 1000).toFixed(0)} s\n`);
          }
        }
      }),
    );
    await waitFor(
      async () => {
        const inReview = await stack.db.certificate.count({ where: { status: 'in_review' } });
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          process.stderr.write(`  seeding: ${inReview} of ${count} in review after ${((Date.now() - seedStarted) / 1000).toFixed(0)} s\n`);
        }
        return inReview === count;
      },
      { timeoutMs: 3 * 3_600_000, intervalMs: 1_000, what: `${count} certificates in review` },
    );
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const ids = vins.map((vin) => `ecoc-${vin}-s1`);
    const headers = { authorization: `Bearer ${reader}` };
    const pick = () => ids[Math.floor(Math.random() * ids.length)]!;
    // Warm-up (connections, query plans), not measured.
    await load(clients, 3, () => fetch(`${api.url}/api/v1/certificates/${pick()}/status`, { headers }));
    const status = await load(clients, seconds, () => fetch(`${api.url}/api/v1/certificates/${pick()}/status`, { headers }));
    const live = await load(clients, Math.max(5, Math.round(seconds / 3)), () => fetch(`${api.url}/api/v1/certificates/${pick()}/status?live=true`, { headers }));
    const list = await load(clients, Math.max(5, Math.round(seconds / 3)), () => fetch(`${api.url}/api/v1/certificates?status=in_review&limit=50`, { headers }));
    const unknownStatus = () => fetch(`${api.url}/api/v1/certificates/ecoc-${nextVin()}-s1/status`, { headers });
    const unknown = await load(clients, Math.max(5, Math.round(seconds / 3)), unknownStatus, 404);
    const unknownOneClient = await load(1, Math.max(3, Math.round(seconds / 6)), unknownStatus, 404);
    return {
      certificates: count,
      inReview: await stack.db.certificate.count({ where: { status: 'in_review' } }),
      seedSeconds: Math.round(seedSeconds),
      seedPerSecond: Math.round((count / seedSeconds) * 10) / 10,
      clients,
      status,
      live,
      list,
      unknown,
      unknownOneClient,
    };
  } finally {
    await api.stop();
    worker.child.kill('SIGTERM');
    await worker.exited;
    await stack.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { certificates: { type: 'string' }, clients: { type: 'string' }, seconds: { type: 'string' } } });
  const result = await runApiBench({
    ...(values.certificates ? { certificates: Number(values.certificates) } : {}),
    ...(values.clients ? { clients: Number(values.clients) } : {}),
    ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
  });
  const line = (name: string, s: LatencySummary) =>
    `${name}: ${s.requests} requests, ${s.perSecond}/s, p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms, max ${s.max} ms, errors ${s.errors}`;
  console.log(`seeded ${result.certificates} certificates into review through POST /api/v1/vehicles in ${result.seedSeconds} s (${result.seedPerSecond}/s); ${result.inReview} in review`);
  console.log(line(`GET /certificates/:id/status (certificate row), ${result.clients} clients`, result.status));
  console.log(`  target p99 <= 50 ms: ${result.status.p99 <= 50 ? 'met' : 'NOT met'}`);
  console.log(line(`GET /certificates/:id/status?live=true (Temporal query), ${result.clients} clients`, result.live));
  console.log(line(`GET /certificates?status=in_review (projection), ${result.clients} clients`, result.list));
  console.log(line(`GET /certificates/:id/status for unknown ids (404), ${result.clients} clients`, result.unknown));
  console.log(line('GET /certificates/:id/status for unknown ids (404), 1 client', result.unknownOneClient));
  console.log(`  target 404 in < 50 ms: ${result.unknownOneClient.p99 < 50 && result.unknownOneClient.errors === 0 ? 'met' : 'NOT met'} (1 client, p99); at ${result.clients} clients p99 ${result.unknown.p99} ms`);
}
