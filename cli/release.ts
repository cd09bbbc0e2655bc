import { userInfo } from 'node:os';
import { Client } from '@temporalio/client';
import { connectTemporalClient, temporalConnectionOptions } from '../platform/temporal/connection.ts';
import { type Command, InvalidArgumentError } from 'commander';
import { prettifyError, ZodError } from 'zod';
import { loadConfig } from '../platform/config.ts';
import {
  backfillReleaseSchedule,
  createReleaseSchedule,
  deleteReleaseSchedule,
  describeReleaseSchedule,
  listReleaseSchedules,
  pauseReleaseSchedule,
  releaseRunProgress,
  type ReleaseScheduleSummary,
  type ReleaseScheduleView,
  startReleaseRun,
  triggerReleaseSchedule,
  unpauseReleaseSchedule,
} from '../releases/service.ts';
import type { Config } from '../schemas/config/index.ts';
import type { Actor } from '../schemas/certificate.ts';
import type { ReleaseProgress } from '../workflows/release/definitions.ts';

/** `ecoc release run` and `ecoc schedule …`: the release service from a terminal. */
export function registerReleaseCommands(program: Command): void {
  const release = program.command('release').description('Batch releases of signed certificates to a destination');
  withOverrides(release.command('run'))
    .description('Release what is waiting for one destination now, showing progress until it is done')
    .requiredOption('--destination <id>', 'destination id from ECOC_DESTINATIONS_FILE')
    .option('--json', 'print the final summary as JSON')
    .action((options: { destination: string; json?: boolean } & Overrides) =>
      withClient(async (client, config) => {
        const started = await startReleaseRun(client, config, { destination: options.destination, ...overrides(options) }, cliActor());
        const note = started.started ? 'started' : 'already running; following it';
        console.error(`release ${started.batchId} for ${options.destination} ${note} (workflow ${started.workflowId})`);
        const final = await follow(client, config, options.destination);
        if (options.json) console.log(JSON.stringify(final.progress, null, 2));
        else console.log(summary(final.progress, final.status));
        if (final.status !== 'COMPLETED') process.exitCode = 1;
      }),
    );

  const schedule = program.command('schedule').description('Recurring releases on Temporal Schedules (one per destination)');
  withOverrides(schedule.command('create'))
    .description('Create a release schedule: a calendar (--cron, in --timezone) or an interval (--every)')
    .requiredOption('--destination <id>', 'destination id')
    .option('--cron <expression>', 'five cron fields, e.g. "0 2 * * *" for 02:00 every day')
    .option('--every <duration>', 'an interval such as 15m or 1h')
    .option('--offset <duration>', 'shift of the interval, e.g. 5m')
    .option('--timezone <zone>', 'IANA time zone for --cron (default ECOC_RELEASE_TIMEZONE)')
    .option('--note <text>', 'why the schedule exists')
    .option('--paused', 'create it paused')
    .option('--json', 'print JSON')
    .action((options: { destination: string; cron?: string; every?: string; offset?: string; timezone?: string; note?: string; paused?: boolean; json?: boolean } & Overrides) =>
      withClient(async (client, config) => {
        const { json, ...input } = options;
        printView(await createReleaseSchedule(client, config, { ...input, ...overrides(options), paused: options.paused ?? false }, cliActor()), json);
      }),
    );
  schedule
    .command('list')
    .description('List release schedules')
    .option('--destination <id>', 'only this destination')
    .option('--json', 'print JSON')
    .action((options: { destination?: string; json?: boolean }) =>
      withClient(async (client, config) => {
        const schedules = await listReleaseSchedules(client, config, { destination: options.destination }, cliActor());
        if (options.json) console.log(JSON.stringify(schedules, null, 2));
        else if (schedules.length === 0) console.log('no release schedules');
        else for (const entry of schedules) console.log(listLine(entry));
      }),
    );
  schedule
    .command('describe')
    .description('Spec, state, next run times and the latest runs with their results')
    .requiredOption('--destination <id>', 'destination id')
    .option('--json', 'print JSON')
    .action((options: { destination: string; json?: boolean }) =>
      withClient(async (client, config) => printView(await describeReleaseSchedule(client, config, { destination: options.destination }, cliActor()), options.json)),
    );
  for (const [name, run] of [
    ['pause', pauseReleaseSchedule],
    ['unpause', unpauseReleaseSchedule],
  ] as const) {
    schedule
      .command(name)
      .description(`${name === 'pause' ? 'Pause' : 'Unpause'} a release schedule, with a note saying why`)
      .requiredOption('--destination <id>', 'destination id')
      .option('--note <text>', 'why')
      .option('--json', 'print JSON')
      .action((options: { destination: string; note?: string; json?: boolean }) =>
        withClient(async (client, config) => printView(await run(client, config, { destination: options.destination, note: options.note }, cliActor()), options.json)),
      );
  }
  schedule
    .command('trigger')
    .description('Run the schedule now (skipped if its previous run is still going)')
    .requiredOption('--destination <id>', 'destination id')
    .option('--json', 'print JSON')
    .action((options: { destination: string; json?: boolean }) =>
      withClient(async (client, config) => printView(await triggerReleaseSchedule(client, config, { destination: options.destination }, cliActor()), options.json)),
    );
  schedule
    .command('backfill')
    .description('Take the runs the schedule would have taken in a past window')
    .requiredOption('--destination <id>', 'destination id')
    .requiredOption('--start <instant>', 'window start, ISO 8601 with offset (2026-03-01T00:00:00+01:00)')
    .requiredOption('--end <instant>', 'window end, ISO 8601 with offset')
    .option('--json', 'print JSON')
    .action((options: { destination: string; start: string; end: string; json?: boolean }) =>
      withClient(async (client, config) =>
        printView(await backfillReleaseSchedule(client, config, { destination: options.destination, start: options.start, end: options.end }, cliActor()), options.json),
      ),
    );
  schedule
    .command('delete')
    .description('Delete a release schedule (a release it started runs to the end)')
    .requiredOption('--destination <id>', 'destination id')
    .action((options: { destination: string }) =>
      withClient(async (client, config) => {
        const deleted = await deleteReleaseSchedule(client, config, { destination: options.destination }, cliActor());
        console.log(`deleted ${deleted.scheduleId}`);
      }),
    );
}

interface Overrides {
  batchSize?: number;
  chunkSize?: number;
  concurrency?: number;
}

function withOverrides(command: Command): Command {
  return command
    .option('--batch-size <n>', 'at most this many certificates (default ECOC_RELEASE_BATCH_SIZE)', positiveInt)
    .option('--chunk-size <n>', 'certificates per SFTP package / NAP call group (default ECOC_RELEASE_CHUNK_SIZE)', positiveInt)
    .option('--concurrency <n>', 'chunks in flight (default ECOC_RELEASE_CONCURRENCY)', positiveInt);
}

function overrides(options: Overrides): Overrides {
  return { batchSize: options.batchSize, chunkSize: options.chunkSize, concurrency: options.concurrency };
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return parsed;
}

/** Whoever runs the CLI has Temporal access already; the actor names them in notes and logs. */
function cliActor(): Actor {
  return { id: `cli:${userInfo().username}`, roles: ['release-manager'] };
}

async function withClient(work: (client: Client, config: Config) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const connection = await connectTemporalClient(temporalConnectionOptions(config), 5_000);
  try {
    await work(new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), config);
  } catch (error) {
    if (error instanceof ZodError) throw new Error(`invalid input:\n${prettifyError(error)}`, { cause: error });
    throw error;
  } finally {
    await connection.close();
  }
}

const POLL_MS = 500;
const PLAIN_LINE_EVERY_MS = 5_000;

/** Polls the run until it ends: a bar redrawn in place on a terminal, a line per change otherwise. */
async function follow(client: Client, config: Config, destination: string) {
  const tty = process.stderr.isTTY === true;
  let lastLine = '';
  let lastPrinted = 0;
  for (;;) {
    const status = await releaseRunProgress(client, config, { destination }, cliActor());
    if (tty) {
      process.stderr.write(`\r${bar(status.progress, process.stderr.columns ?? 80)}`);
    } else {
      const line = progressLine(status.progress);
      if (line !== lastLine && (Date.now() - lastPrinted >= PLAIN_LINE_EVERY_MS || status.status !== 'RUNNING')) {
        console.error(line);
        lastLine = line;
        lastPrinted = Date.now();
      }
    }
    if (status.status !== 'RUNNING') {
      if (tty) process.stderr.write('\n');
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function settled(progress: ReleaseProgress): number {
  return progress.delivered + progress.failed + progress.skipped;
}

function bar(progress: ReleaseProgress, columns: number): string {
  const total = Math.max(progress.expected, progress.selected);
  const counts = ` ${settled(progress)}/${total} delivered ${progress.delivered} failed ${progress.failed} skipped ${progress.skipped}`;
  const width = Math.max(10, Math.min(40, columns - counts.length - 3));
  const filled = total === 0 ? width : Math.round((settled(progress) / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${counts}`;
}

function progressLine(progress: ReleaseProgress): string {
  return `${progress.phase}: selected ${progress.selected} claimed ${progress.claimed} delivered ${progress.delivered} failed ${progress.failed} skipped ${progress.skipped} remaining ${progress.remaining}`;
}

function summary(progress: ReleaseProgress, status: string): string {
  const seconds = progress.finishedAt ? (new Date(progress.finishedAt).getTime() - new Date(progress.startedAt).getTime()) / 1000 : undefined;
  return [
    `release ${progress.batchId} to ${progress.destination}: ${status === 'COMPLETED' ? progress.phase : status.toLowerCase()}`,
    `  delivered ${progress.delivered}, failed ${progress.failed} (${progress.failedPermanently} for good, the rest wait for the next run), skipped ${progress.skipped}`,
    ...(progress.packages > 0 ? [`  packages ${progress.packages}; acknowledgements watched by ${progress.acknowledgementWorkflowId}`] : []),
    ...(seconds !== undefined ? [`  took ${seconds.toFixed(1)} s${seconds > 0 ? ` (${(progress.delivered / seconds).toFixed(1)} certificates/s)` : ''}`] : []),
  ].join('\n');
}

function specText(view: Pick<ReleaseScheduleView, 'cron' | 'everyMs' | 'offsetMs'>): string {
  if (view.cron) return `cron "${view.cron}"`;
  return `every ${view.everyMs! / 1000}s${view.offsetMs ? ` offset ${view.offsetMs / 1000}s` : ''}`;
}

function listLine(entry: ReleaseScheduleSummary): string {
  return `${entry.scheduleId}  ${specText(entry)}  ${entry.paused ? 'PAUSED' : 'active'}  next ${entry.nextRuns[0] ?? '-'}${entry.note ? `  (${entry.note})` : ''}`;
}

function printView(view: ReleaseScheduleView, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(view, null, 2));
    return;
  }
  console.log(
    [
      `${view.scheduleId} (destination ${view.destination})`,
      `  ${specText(view)} in ${view.timezone}; overlap ${view.overlap}; ${view.paused ? 'PAUSED' : 'active'}${view.note ? ` — ${view.note}` : ''}`,
      `  next runs: ${view.nextRuns.join(', ') || 'none'}`,
      `  runs taken ${view.actionsTaken}, skipped (still running) ${view.skippedOverlap}`,
      ...view.recentRuns.map((run) => {
        const result = run.result?.outcome === 'released' ? `delivered ${run.result.summary.delivered}, failed ${run.result.summary.failed}` : (run.result?.reason ?? '');
        return `  ${run.scheduledAt} ${run.status.toLowerCase()} ${result} (${run.workflowId})`;
      }),
    ].join('\n'),
  );
}
