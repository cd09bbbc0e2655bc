// ERP ingest throughput: a generated CSV (default 10,000 rows) through processErpStream — the
// inbox's and `ecoc ingest`'s path — into certificate workflows on a real Temporal server and
// PostgreSQL with an in-process worker. Prints rows/s, peak RSS growth and how much of the file
// had been read when the first row was done (streaming, not loading).
// Run: npx tsx bench/inbox.ts [--rows 10000] [--concurrency 4]
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createActivities } from '../activities/index.ts';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../connectors/hsm/software.ts';
import { processErpStream } from '../inbox/process-stream.ts';
import { storePublishedApproval } from '../test/support/type-approvals.ts';
import { loadConfig } from '../platform/config.ts';
import { createChannelRegistry } from '../platform/delivery-channels.ts';
import { reviewPolicy } from '../platform/review-policy.ts';
import { startWorker } from '../platform/temporal/worker.ts';
import { erpMappingSchema } from '../schemas/erp/mapping.ts';
import { acmeMapping, CSV_HEADER, csvRow, specimenApproval } from '../test/inbox/support.ts';
import { startBenchStack } from './support/stack.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '4' } } });
const rows = Number(values.rows);
const concurrency = Number(values.concurrency);

const stack = await startBenchStack();
try {
  const taskQueue = `bench-inbox-${process.pid}`;
  const config = loadConfig(stack.workerEnv(taskQueue));
  const signer = await openSoftwareSigner(await ensureSoftwareKey(stack.dir));
  const channels = await createChannelRegistry(config, stack.logger);
  const worker = await startWorker({
    connection: { address: stack.temporalAddress },
    namespace: 'default',
    taskQueue,
    activities: createActivities({ db: stack.db, logger: stack.logger, config, signer, channel: channels.channel, client: stack.client }),
    logger: stack.logger,
  });
  await storePublishedApproval(stack.db, specimenApproval());

  const file = join(stack.dir, 'bench.csv');
  const vin = (i: number) => `WVWBENCH${String(i).padStart(9, '0')}`;
  writeFileSync(file, `${[CSV_HEADER, ...Array.from({ length: rows }, (_, i) => csvRow(vin(i)))].join('\n')}\n`);
  const size = statSync(file).size;

  let read = 0;
  let readAtFirstRow = 0;
  let peakRss = 0;
  const rssBefore = process.memoryUsage().rss;
  const input = createReadStream(file, { highWaterMark: 64 * 1024 }).on('data', (chunk) => (read += chunk.length));
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  const result = await processErpStream(input, {
    ingest: { db: stack.db, client: stack.client, taskQueue, review: reviewPolicy(config), destinations: await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE) },
    mapping: erpMappingSchema.parse(acmeMapping),
    fileName: 'bench.csv',
    actor: { id: 'bench', roles: ['integrator'] },
    concurrency,
    onProgress: ({ rowsDone }) => {
      if (rowsDone === 1) readAtFirstRow = read;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  console.log(
    JSON.stringify({
      rows,
      fileBytes: size,
      concurrency,
      accepted: result.report.totals.accepted,
      outcomes: result.outcomes,
      seconds: Number(seconds.toFixed(1)),
      rowsPerSecond: Number((rows / seconds).toFixed(1)),
      readAtFirstRowBytes: readAtFirstRow,
      peakRssGrowthMiB: Number(((peakRss - rssBefore) / 1024 / 1024).toFixed(1)),
    }),
  );
  await worker.stop();
  await channels.close();
  await signer.close();
} finally {
  await stack.stop();
}
