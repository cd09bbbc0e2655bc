import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { Logger } from '../platform/logger.ts';
import type { Config } from '../schemas/config/index.ts';
import { AUDIT_WITNESS_WORKFLOW_TYPE, auditWitnessWorkflowId } from '../workflows/audit/definitions.ts';
import type { AuditWitnessInput, CheckpointResult, WitnessedCheckpoint } from '../workflows/audit/types.ts';

/** Started by every worker; a running witness is kept (one per task queue). */
export async function startAuditWitness(client: Client, config: Config, logger: Logger): Promise<void> {
  const handle = await client.workflow.start<(input: AuditWitnessInput) => Promise<void>>(AUDIT_WITNESS_WORKFLOW_TYPE, {
    workflowId: auditWitnessWorkflowId(config.ECOC_TASK_QUEUE),
    taskQueue: config.ECOC_TASK_QUEUE,
    args: [{ intervalMs: config.ECOC_AUDIT_CHECKPOINT_INTERVAL }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  logger.info({ workflowId: handle.workflowId, intervalMs: config.ECOC_AUDIT_CHECKPOINT_INTERVAL, file: witnessFilePath(config) }, 'audit witness running');
}

/** The JSON-lines witness: ECOC_AUDIT_WITNESS_FILE, default `<ECOC_DATA_DIR>/audit/witness.jsonl`. */
export function witnessFilePath(config: Pick<Config, 'ECOC_DATA_DIR' | 'ECOC_AUDIT_WITNESS_FILE'>): string {
  return resolve(config.ECOC_AUDIT_WITNESS_FILE ?? join(config.ECOC_DATA_DIR, 'audit', 'witness.jsonl'));
}

/** Appends one line per checkpoint (a retried checkpoint may repeat its line; readers accept equal repeats). */
export async function appendWitnessFile(file: string, checkpoint: WitnessedCheckpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(checkpoint)}\n`, { mode: 0o640 });
}

/** What the witness file says; null when there is no file (it lives on the worker host that wrote it). */
export interface WitnessFileView {
  path: string;
  checkpoints: WitnessedCheckpoint[];
  /** Lines that are not a checkpoint (a torn last line after a crash, or an edit). */
  unreadable: number[];
}

export async function readWitnessFile(path: string): Promise<WitnessFileView | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const checkpoints: WitnessedCheckpoint[] = [];
  const unreadable: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const value = JSON.parse(line) as WitnessedCheckpoint;
      if (typeof value.number !== 'number' || typeof value.digest !== 'string') throw new Error('not a checkpoint');
      checkpoints.push(value);
    } catch {
      unreadable.push(index + 1);
    }
  });
  return { path, checkpoints, unreadable };
}

/** The webhook export: POSTs the checkpoint as JSON; any 2xx takes it. */
export async function publishCheckpoint(url: string, checkpoint: WitnessedCheckpoint, timeoutMs = 30_000): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'ecoc.audit.checkpoint', checkpoint }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`audit witness webhook ${url} answered HTTP ${response.status}`);
}

/** What the witness workflow's current run holds. */
export interface WitnessWorkflowView {
  workflowId: string;
  runId: string;
  /** The checkpoint carried in from the previous run (it chains to every earlier one). */
  carried: WitnessedCheckpoint | null;
  /** The first checkpoint the witness ever saw; earlier ones predate it. */
  first: number | null;
  /** Every checkpoint given to this run, in order. */
  checkpoints: WitnessedCheckpoint[];
  /** Seal certificates that signed witnessed checkpoints (SHA-256 fingerprints). */
  certificates: string[];
}

/**
 * Reads the witness from its workflow history (no worker needed): the carried state in the start
 * event's input and each checkpoint activity's result. Null when the workflow does not exist.
 */
export async function readWitnessWorkflow(client: Client, taskQueue: string): Promise<WitnessWorkflowView | null> {
  const workflowId = auditWitnessWorkflowId(taskQueue);
  const handle = client.workflow.getHandle(workflowId);
  let history;
  try {
    history = await handle.fetchHistory();
  } catch (error) {
    // gRPC status 5: NOT_FOUND (fetchHistory does not translate it to WorkflowNotFoundError).
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === 5)) return null;
    throw error;
  }
  const decode = <T>(payloads: Payload[] | null | undefined): T | undefined => (payloads?.[0] ? defaultPayloadConverter.fromPayload<T>(payloads[0]) : undefined);
  const scheduled = new Set<string>();
  const view: WitnessWorkflowView = { workflowId, runId: '', carried: null, first: null, checkpoints: [], certificates: [] };
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      const input = decode<AuditWitnessInput>(started.input?.payloads as Payload[] | undefined);
      view.runId = started.originalExecutionRunId ?? '';
      view.carried = input?.carried?.last ?? null;
      view.first = input?.carried?.first ?? null;
      view.certificates = [...(input?.carried?.certificates ?? [])];
    }
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'takeAuditCheckpoint') scheduled.add(String(event.eventId));
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && scheduled.has(String(completed.scheduledEventId))) {
      const checkpoint = decode<CheckpointResult>(completed.result?.payloads as Payload[] | undefined)?.checkpoint;
      if (checkpoint) {
        view.checkpoints.push(checkpoint);
        view.first ??= checkpoint.number;
        if (!view.certificates.includes(checkpoint.certificateFingerprint)) view.certificates.push(checkpoint.certificateFingerprint);
      }
    }
  }
  return view;
}
