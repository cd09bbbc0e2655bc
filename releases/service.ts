import { randomUUID } from 'node:crypto';
import { type Client, ScheduleAlreadyRunning, type ScheduleDescription, type ScheduleExecutionResult, type ScheduleHandle, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { loadDestinations } from '../connectors/delivery/destinations.ts';
import type { Config } from '../schemas/config/index.ts';
import {
  backfillReleaseScheduleSchema,
  type BackfillReleaseScheduleInput,
  createReleaseScheduleSchema,
  type CreateReleaseScheduleInput,
  destinationRefSchema,
  type DestinationRef,
  listReleaseSchedulesSchema,
  type ListReleaseSchedulesInput,
  scheduleNoteSchema,
  type ScheduleNoteInput,
  startReleaseRunSchema,
  type StartReleaseRunInput,
} from '../schemas/release.ts';
import { requirePermission } from '../auth/permissions.ts';
import type { Actor } from '../schemas/certificate.ts';
import {
  newBatchId,
  progressQuery,
  releaseScheduleId,
  releaseWorkflowId,
  type ReleaseInput,
  type ReleaseProgress,
  scheduledReleaseWorkflowId,
  type ScheduledReleaseResult,
} from '../workflows/release/definitions.ts';
import type { releaseWorkflow, scheduledReleaseWorkflow } from '../workflows/release/index.ts';
import { EcocDestination } from '../workflows/search-attributes.ts';
import { ReleaseRequestError } from './errors.ts';

/**
 * Overlap policy of every release schedule: a tick that finds the previous run still going is
 * skipped, not queued. Each run takes everything waiting, so the next tick catches up; queueing
 * would only stack runs behind a slow destination. (The destination's single workflow id also
 * keeps a hand-started release and a scheduled one apart.)
 */
export const RELEASE_OVERLAP_POLICY = 'SKIP';
/** A tick missed while Temporal was down still runs if it is at most this late (once, given SKIP). */
export const RELEASE_CATCHUP_WINDOW = '1 day';
/** How many of the schedule's latest runs `describe` reports, with their results. */
const RECENT_RUNS = 5;

/** Kept on the schedule (memo): the spec as the user wrote it, which Temporal stores only compiled. */
interface ScheduleMemo {
  kind: 'ecoc-release';
  destination: string;
  cron?: string | undefined;
  everyMs?: number | undefined;
  offsetMs?: number | undefined;
  createdBy: string;
}

export interface ReleaseScheduleRun {
  scheduledAt: string;
  startedAt: string;
  workflowId: string;
  runId: string;
  /** Temporal's execution status (RUNNING, COMPLETED, FAILED, ...). */
  status: string;
  result?: ScheduledReleaseResult | undefined;
}

export interface ReleaseScheduleView {
  scheduleId: string;
  destination: string;
  cron?: string | undefined;
  everyMs?: number | undefined;
  offsetMs?: number | undefined;
  timezone: string;
  overlap: string;
  paused: boolean;
  note?: string | undefined;
  createdBy?: string | undefined;
  nextRuns: string[];
  recentRuns: ReleaseScheduleRun[];
  actionsTaken: number;
  skippedOverlap: number;
}

export type ReleaseScheduleSummary = Pick<ReleaseScheduleView, 'scheduleId' | 'destination' | 'cron' | 'everyMs' | 'offsetMs' | 'paused' | 'note' | 'nextRuns'>;

export interface ReleaseRunStart {
  workflowId: string;
  runId: string;
  /** False when a release for the destination was already running: that run is the one to follow. */
  started: boolean;
  batchId: string;
}

export interface ReleaseRunStatus {
  workflowId: string;
  runId: string;
  /** Temporal's execution status of the latest run (RUNNING, COMPLETED, ...). */
  status: string;
  progress: ReleaseProgress;
}

export async function createReleaseSchedule(client: Client, config: Config, input: CreateReleaseScheduleInput, actor: Actor): Promise<ReleaseScheduleView> {
  const request = createReleaseScheduleSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'create a release schedule');
  await requireDestination(config, request.destination);
  const scheduleId = releaseScheduleId(request.destination);
  const timezone = request.timezone ?? config.ECOC_RELEASE_TIMEZONE;
  const memo: ScheduleMemo = { kind: 'ecoc-release', destination: request.destination, cron: request.cron, everyMs: request.every, offsetMs: request.offset, createdBy: actor.id };
  const args: Parameters<typeof scheduledReleaseWorkflow> = [
    { destination: request.destination, scheduleId, batchSize: request.batchSize, chunkSize: request.chunkSize, concurrency: request.concurrency },
  ];
  try {
    await client.schedule.create({
      scheduleId,
      spec: {
        ...(request.cron ? { cronExpressions: [request.cron] } : { intervals: [{ every: request.every!, ...(request.offset ? { offset: request.offset } : {}) }] }),
        timezone,
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledReleaseWorkflow',
        workflowId: scheduledReleaseWorkflowId(request.destination),
        taskQueue: config.ECOC_TASK_QUEUE,
        args,
        typedSearchAttributes: [{ key: EcocDestination, value: request.destination }],
      },
      policies: { overlap: RELEASE_OVERLAP_POLICY, catchupWindow: RELEASE_CATCHUP_WINDOW },
      memo: { ...memo },
      typedSearchAttributes: [{ key: EcocDestination, value: request.destination }],
      state: { paused: request.paused, note: noteBy(actor, request.note ?? 'created') },
    });
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) throw new ReleaseRequestError('not_allowed_in_state', `a release schedule for ${request.destination} already exists (${scheduleId})`);
    throw error;
  }
  return view(client, await client.schedule.getHandle(scheduleId).describe());
}

/** Release schedules (only ours: other schedules in the namespace are not listed). */
export async function listReleaseSchedules(client: Client, _config: Config, input: ListReleaseSchedulesInput, actor: Actor): Promise<ReleaseScheduleSummary[]> {
  const request = listReleaseSchedulesSchema.parse(input);
  requirePermission(actor, 'releases.view', 'list release schedules');
  const summaries: ReleaseScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    const memo = schedule.memo as Partial<ScheduleMemo> | undefined;
    if (memo?.kind !== 'ecoc-release' || (request.destination && memo.destination !== request.destination)) continue;
    summaries.push({
      scheduleId: schedule.scheduleId,
      destination: memo.destination!,
      cron: memo.cron,
      everyMs: memo.everyMs,
      offsetMs: memo.offsetMs,
      paused: schedule.state.paused,
      note: schedule.state.note,
      nextRuns: schedule.info.nextActionTimes.map((at) => at.toISOString()),
    });
  }
  return summaries.sort((a, b) => a.destination.localeCompare(b.destination));
}

/** Spec, state, the next run times and the latest runs with their results. */
export async function describeReleaseSchedule(client: Client, _config: Config, input: DestinationRef, actor: Actor): Promise<ReleaseScheduleView> {
  const { destination } = destinationRefSchema.parse(input);
  requirePermission(actor, 'releases.view', 'describe a release schedule');
  return view(client, await (await existingSchedule(client, destination)).describe());
}

export async function pauseReleaseSchedule(client: Client, _config: Config, input: ScheduleNoteInput, actor: Actor): Promise<ReleaseScheduleView> {
  const request = scheduleNoteSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'pause a release schedule');
  const handle = await existingSchedule(client, request.destination);
  await handle.pause(noteBy(actor, request.note ?? 'paused'));
  return view(client, await handle.describe());
}

export async function unpauseReleaseSchedule(client: Client, _config: Config, input: ScheduleNoteInput, actor: Actor): Promise<ReleaseScheduleView> {
  const request = scheduleNoteSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'unpause a release schedule');
  const handle = await existingSchedule(client, request.destination);
  await handle.unpause(noteBy(actor, request.note ?? 'unpaused'));
  return view(client, await handle.describe());
}

/** Runs the schedule's action now, under the same overlap policy (a run still going means skip). */
export async function triggerReleaseSchedule(client: Client, _config: Config, input: DestinationRef, actor: Actor): Promise<ReleaseScheduleView> {
  const { destination } = destinationRefSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'trigger a release schedule');
  const handle = await existingSchedule(client, destination);
  await handle.trigger(RELEASE_OVERLAP_POLICY);
  return view(client, await handle.describe());
}

/**
 * Takes the actions the schedule would have taken in a past window (e.g. while it was paused or
 * Temporal was down). Overlap stays SKIP: the first run releases everything waiting, so the
 * window's other ticks have nothing left to do and are skipped while it runs.
 */
export async function backfillReleaseSchedule(client: Client, _config: Config, input: BackfillReleaseScheduleInput, actor: Actor): Promise<ReleaseScheduleView> {
  const request = backfillReleaseScheduleSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'backfill a release schedule');
  const handle = await existingSchedule(client, request.destination);
  await handle.backfill({ start: new Date(request.start), end: new Date(request.end), overlap: RELEASE_OVERLAP_POLICY });
  return view(client, await handle.describe());
}

/** Deletes the schedule; a release it started keeps running to the end. */
export async function deleteReleaseSchedule(client: Client, _config: Config, input: DestinationRef, actor: Actor): Promise<{ scheduleId: string; deleted: true }> {
  const { destination } = destinationRefSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'delete a release schedule');
  const scheduleId = releaseScheduleId(destination);
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    throw notFoundOr(error, destination);
  }
  return { scheduleId, deleted: true };
}

/**
 * Starts a release for one destination now. The destination's workflow id admits one running
 * release: if one is running (by hand or by schedule), it is returned with `started: false`.
 */
export async function startReleaseRun(client: Client, config: Config, input: StartReleaseRunInput, actor: Actor): Promise<ReleaseRunStart> {
  const request = startReleaseRunSchema.parse(input);
  requirePermission(actor, 'releases.manage', 'start a release');
  await requireDestination(config, request.destination);
  const workflowId = releaseWorkflowId(request.destination);
  const batchId = newBatchId(request.destination, new Date(), randomUUID());
  const args: [ReleaseInput] = [{ destination: request.destination, batchId, requestedBy: actor.id, batchSize: request.batchSize, chunkSize: request.chunkSize, concurrency: request.concurrency }];
  try {
    const handle = await client.workflow.start<typeof releaseWorkflow>('releaseWorkflow', {
      workflowId,
      taskQueue: config.ECOC_TASK_QUEUE,
      args,
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [{ key: EcocDestination, value: request.destination }],
    });
    return { workflowId, runId: handle.firstExecutionRunId, started: true, batchId };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const running = await releaseRunProgress(client, config, { destination: request.destination }, actor);
    return { workflowId, runId: running.runId, started: false, batchId: running.progress.batchId };
  }
}

/** The latest release run for a destination: live progress while it runs, its summary after. */
export async function releaseRunProgress(client: Client, _config: Config, input: DestinationRef, actor: Actor): Promise<ReleaseRunStatus> {
  const { destination } = destinationRefSchema.parse(input);
  requirePermission(actor, 'releases.view', 'see release progress');
  const workflowId = releaseWorkflowId(destination);
  const handle = client.workflow.getHandle<typeof releaseWorkflow>(workflowId);
  try {
    const description = await handle.describe();
    const status = description.status.name;
    // A finished run answers with its result (no worker needed); a running one with the query.
    const progress = status === 'COMPLETED' ? await handle.result() : await handle.query(progressQuery);
    return { workflowId, runId: description.runId, status, progress };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new ReleaseRequestError('not_found', `no release has run for ${destination}`);
    throw error;
  }
}

/** The destination's schedule handle, or a clear not-found error. */
async function existingSchedule(client: Client, destination: string): Promise<ScheduleHandle> {
  const handle = client.schedule.getHandle(releaseScheduleId(destination));
  try {
    await handle.describe();
  } catch (error) {
    throw notFoundOr(error, destination);
  }
  return handle;
}

function notFoundOr(error: unknown, destination: string): unknown {
  return error instanceof ScheduleNotFoundError ? new ReleaseRequestError('not_found', `no release schedule for ${destination}`) : error;
}

async function view(client: Client, description: ScheduleDescription): Promise<ReleaseScheduleView> {
  const memo = description.memo as ScheduleMemo | undefined;
  const recent = description.info.recentActions.slice(-RECENT_RUNS).reverse();
  return {
    scheduleId: description.scheduleId,
    destination: memo?.destination ?? description.scheduleId.replace(/^release-/, ''),
    cron: memo?.cron,
    everyMs: memo?.everyMs,
    offsetMs: memo?.offsetMs,
    timezone: description.spec.timezone ?? 'UTC',
    overlap: description.policies.overlap ?? RELEASE_OVERLAP_POLICY,
    paused: description.state.paused,
    note: description.state.note,
    createdBy: memo?.createdBy,
    nextRuns: description.info.nextActionTimes.map((at) => at.toISOString()),
    recentRuns: await Promise.all(recent.map((run) => recentRun(client, run))),
    actionsTaken: description.info.numActionsTaken,
    skippedOverlap: description.info.numActionsSkippedOverlap,
  };
}

async function recentRun(client: Client, run: ScheduleExecutionResult): Promise<ReleaseScheduleRun> {
  const { workflowId, firstExecutionRunId } = run.action.workflow;
  const handle = client.workflow.getHandle<typeof scheduledReleaseWorkflow>(workflowId, firstExecutionRunId);
  const status = (await handle.describe()).status.name;
  return {
    scheduledAt: run.scheduledAt.toISOString(),
    startedAt: run.takenAt.toISOString(),
    workflowId,
    runId: firstExecutionRunId,
    status,
    result: status === 'COMPLETED' ? await handle.result() : undefined,
  };
}

async function requireDestination(config: Config, destination: string): Promise<void> {
  const known = await loadDestinations(config.ECOC_DESTINATIONS_FILE);
  if (!known.some((entry) => entry.id === destination)) {
    throw new ReleaseRequestError('not_found', `unknown destination "${destination}"; configured: ${known.map((entry) => entry.id).join(', ') || 'none'} (ECOC_DESTINATIONS_FILE)`);
  }
}

/** Temporal keeps one note per schedule: it says who did what, and why. */
function noteBy(actor: Actor, note: string): string {
  return `${actor.id}: ${note}`;
}
