import { ActivityFailure, allHandlersFinished, condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { auditWitnessStateQuery, checkpointNowUpdate } from './definitions.ts';
import type { AuditWitnessInput, AuditWitnessState } from './types.ts';

const DEFAULT_INTERVAL_MS = 5 * 60_000;
const HISTORY_EVENTS = 5_000;

/** Reading the heads, signing (an HSM may be restarting) and storing: retried for a few minutes, never past a mismatch. */
const checkpoints = proxyActivities<Pick<Activities, 'takeAuditCheckpoint'>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: ['AuditCheckpointMismatch'] },
});
/** The webhook export: retried for an hour while the receiver is down, then logged and skipped. */
const exporter = proxyActivities<Pick<Activities, 'publishAuditCheckpoint'>>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * The audit trail's witness outside the database. Every interval (and when asked through
 * `checkpointNow`) it has the checkpoint activity commit to all chain heads; the activity's answer,
 * the signed checkpoint, is then part of this workflow's history, where no database user can reach
 * it. Verification compares the database's checkpoints with the ones witnessed here: a checkpoint
 * deleted from the database, or one the witness never saw, shows. Continues as new when the
 * history grows, carrying the latest checkpoint (which chains to every earlier one), the first it
 * saw and the seal certificates that signed them. The interval comes from the worker's
 * configuration with each answer, so changing it needs no restart.
 */
export async function auditWitnessWorkflow(input: AuditWitnessInput = {}): Promise<void> {
  const carried = input.carried;
  const state: AuditWitnessState = {
    last: carried?.last ?? null,
    first: carried?.first ?? null,
    certificates: carried?.certificates ?? [],
    witnessed: carried?.witnessed ?? 0,
    requests: 0,
    answered: 0,
  };
  let intervalMs = input.intervalMs ?? DEFAULT_INTERVAL_MS;
  let published: Promise<void> = Promise.resolve();
  setHandler(auditWitnessStateQuery, () => state);
  setHandler(checkpointNowUpdate, async () => {
    state.requests += 1;
    const ticket = state.requests;
    await condition(() => state.answered >= ticket);
    return { last: state.last, error: state.lastError?.message };
  });

  for (;;) {
    const answering = state.requests;
    await checkpoint();
    state.answered = answering;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS) break;
    await condition(() => state.requests > state.answered, intervalMs);
  }
  await published;
  await condition(allHandlersFinished);
  const { last, first, certificates, witnessed } = state;
  await continueAsNew<typeof auditWitnessWorkflow>({ carried: { last, first, certificates, witnessed }, intervalMs });

  async function checkpoint(): Promise<void> {
    try {
      const result = await checkpoints.takeAuditCheckpoint({ witnessed: state.last ? { number: state.last.number, digest: state.last.digest } : null });
      intervalMs = result.intervalMs;
      state.lastError = undefined;
      const taken = result.checkpoint;
      if (!taken) return;
      state.last = taken;
      state.first ??= taken.number;
      state.witnessed += 1;
      if (!state.certificates.includes(taken.certificateFingerprint)) state.certificates = [...state.certificates, taken.certificateFingerprint];
      // Exports go out in order, one after the other, without holding up the next checkpoint.
      if (result.publish) published = published.then(() => exporter.publishAuditCheckpoint({ checkpoint: taken })).catch((error: unknown) => log.warn('audit checkpoint export failed', { number: taken.number, message: reason(error) }));
    } catch (error) {
      state.lastError = { at: new Date().toISOString(), message: reason(error) };
      log.error('audit checkpoint failed', { message: state.lastError.message });
    }
  }
}

function reason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
