import {
  ActivityFailure,
  CancellationScope,
  continueAsNew,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  TimeoutFailure,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { EcocBatchId, EcocDestination } from '../search-attributes.ts';
import { releaseAcknowledgementWorkflow } from './acknowledgements.ts';
import {
  acknowledgementWorkflowId,
  type ChunkOutcome,
  newBatchId,
  packageIdFor,
  progressQuery,
  type ReleaseCarry,
  type ReleaseInput,
  type ReleaseProgress,
} from './definitions.ts';

/** Reads and Updates: cheap, idempotent, worth retrying as long as Temporal itself answers. */
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
/** Talks to the destination: retried for `deliveryRetryMs`, then the certificates go back to the next run. */
function deliverySteps(retryForMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    scheduleToCloseTimeout: retryForMs,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
}

/** Marks runs that record their outcome in the audit trail when they finish (the `release_run.finished` event). */
export const RELEASE_FINISHED_RECORDED = 'release-finished-recorded';

/** A selection page feeds each lane this many chunks before the run considers continuing as new. */
const CHUNKS_PER_LANE_PER_PAGE = 4;

/**
 * One batch release to one destination: select waiting certificates (oldest first, up to the
 * batch size), claim each from its certificate workflow, deliver in chunks (an SFTP package or a
 * group of NAP calls) with bounded concurrency, and report every outcome back, so the certificate
 * workflows stay the source of truth. Given `certificateIds`, the run releases exactly those (one
 * page, e.g. "release now" as a batch of one) with the same claim, delivery and reports. A failed delivery never fails the run: the certificate goes
 * back to awaiting_release (or to failed, if the destination rejected it) and the run goes on.
 * Large runs continue as new at page boundaries; progress is a query and search attributes.
 */
export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseProgress> {
  const { destination } = input;
  const batchId = input.carried?.batchId ?? input.batchId ?? newBatchId(destination, new Date(), uuid4());
  const progress: ReleaseProgress = input.carried?.progress ?? {
    batchId,
    destination,
    requestedBy: input.requestedBy,
    phase: 'planning',
    expected: 0,
    selected: 0,
    claimed: 0,
    skipped: 0,
    delivered: 0,
    failed: 0,
    failedPermanently: 0,
    remaining: 0,
    packages: 0,
    generation: 0,
    startedAt: new Date().toISOString(),
  };
  if (input.carried) progress.generation += 1;
  const remaining = () => Math.max(0, Math.max(progress.expected, progress.selected) - progress.skipped - progress.delivered - progress.failed);
  setHandler(progressQuery, () => ({ ...progress, remaining: remaining() }));
  upsertSearchAttributes([
    { key: EcocDestination, value: destination },
    { key: EcocBatchId, value: batchId },
  ]);
  // An explicit list replaces selection: the run releases exactly these (each once).
  const listed = input.certificateIds ? [...new Set(input.certificateIds)] : undefined;

  const plan =
    input.carried?.plan ??
    (await steps.planRelease({
      destination,
      cutoff: progress.startedAt,
      overrides: { batchSize: input.batchSize, chunkSize: input.chunkSize, concurrency: input.concurrency },
      ...(listed ? { certificateIds: listed } : {}),
    }));
  progress.expected = plan.expected;
  progress.phase = 'delivering';
  const delivery = deliverySteps(plan.deliveryRetryMs);
  let cursor = input.carried?.cursor;
  let nextChunk = input.carried?.nextChunk ?? 1;
  const packageIds = [...(input.carried?.packageIds ?? [])];
  if (!input.carried) log.info('release started', { batchId, destination, kind: plan.kind, expected: plan.expected, requestedBy: input.requestedBy });

  function count(outcome: ChunkOutcome): void {
    progress.delivered += outcome.delivered;
    progress.failed += outcome.failed;
    progress.failedPermanently += outcome.failedPermanently;
    if (outcome.packageId && !packageIds.includes(outcome.packageId)) {
      packageIds.push(outcome.packageId);
      progress.packages += 1;
    }
  }

  /** Hands certificates back when the run stops early; delivered ones (receipt stored) are reported as such. */
  async function settle(certificateIds: string[], reason: string): Promise<void> {
    count(await CancellationScope.nonCancellable(() => steps.settleReleaseChunk({ destination, batchId, certificateIds, reason })));
  }

  async function processChunk(chunk: { certificateIds: string[]; number: number }): Promise<void> {
    let claims: Awaited<ReturnType<Activities['claimForRelease']>>;
    try {
      claims = await steps.claimForRelease({ batchId, certificateIds: chunk.certificateIds });
    } catch (error) {
      // Cancelled mid-claim: some may be claimed already; the rest refuse the hand-back.
      if (isCancellation(error)) await settle(chunk.certificateIds, 'release cancelled');
      throw error;
    }
    progress.claimed += claims.claimed.length;
    progress.skipped += claims.skipped.length;
    if (claims.claimed.length === 0) return;
    const claimedIds = claims.claimed.map((c) => c.certificateId);
    try {
      count(
        await delivery.deliverReleaseChunk({
          destination,
          batchId,
          certificates: claims.claimed,
          // Fixed here, in history: every retry builds the same package, byte for byte.
          packageId: packageIdFor(batchId, chunk.number),
          createdAt: new Date().toISOString(),
        }),
      );
    } catch (error) {
      const cancelled = isCancellation(error);
      const reason = cancelled ? 'release cancelled' : `delivery to ${destination} gave up: ${failureMessage(error, plan.deliveryRetryMs)}`;
      log.warn('release chunk not delivered', { batchId, chunk: chunk.number, reason });
      await settle(claimedIds, reason);
      if (cancelled) throw error;
    }
  }

  /** A page of certificate ids in chunks of the plan's size, numbered on from the last chunk. */
  function chunksOf(certificateIds: string[]): { certificateIds: string[]; number: number }[] {
    const chunks: { certificateIds: string[]; number: number }[] = [];
    for (let start = 0; start < certificateIds.length; start += plan.chunkSize) {
      chunks.push({ certificateIds: certificateIds.slice(start, start + plan.chunkSize), number: nextChunk++ });
    }
    return chunks;
  }

  try {
    if (listed) {
      // The list is the only page: no selection, no continue-as-new.
      progress.selected += listed.length;
      await inLanes(chunksOf(listed), plan.concurrency, processChunk);
    } else {
      while (progress.selected < plan.batchSize) {
        const limit = Math.min(plan.chunkSize * plan.concurrency * CHUNKS_PER_LANE_PER_PAGE, plan.batchSize - progress.selected);
        const page = await steps.selectForRelease({ destination, cutoff: plan.cutoff, after: cursor, limit });
        cursor = page.cursor;
        progress.selected += page.certificateIds.length;
        await inLanes(chunksOf(page.certificateIds), plan.concurrency, processChunk);
        if (page.certificateIds.length < limit) break;
        const info = workflowInfo();
        if (progress.selected < plan.batchSize && (info.historyLength >= plan.historyEvents || info.continueAsNewSuggested)) {
          const carried: ReleaseCarry = { batchId, plan, progress, cursor, nextChunk, packageIds };
          return await continueAsNew<typeof releaseWorkflow>({ ...input, carried });
        }
      }
    }
  } catch (error) {
    if (isCancellation(error)) progress.phase = 'cancelled';
    throw error;
  }

  if (plan.kind === 'sftp' && packageIds.length > 0) {
    // Partners answer hours later: a separate workflow watches, so this run (and the destination) is free.
    const watch = await startChild(releaseAcknowledgementWorkflow, {
      workflowId: acknowledgementWorkflowId(batchId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ destination, batchId, packageIds, pollIntervalMs: plan.ackPollIntervalMs, deadline: new Date(Date.now() + plan.ackTimeoutMs).toISOString() }],
    });
    progress.acknowledgementWorkflowId = watch.workflowId;
  }
  progress.expected = progress.selected;
  progress.phase = 'completed';
  progress.finishedAt = new Date().toISOString();
  log.info('release finished', { ...progress });
  const summary = { ...progress, remaining: remaining() };
  if (patched(RELEASE_FINISHED_RECORDED)) await steps.recordReleaseFinished(summary);
  return summary;
}

/** Runs `work` over `items` with at most `lanes` at a time; waits for all, then rethrows the first failure. */
async function inLanes<T>(items: T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let stopped = false;
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(lanes, items.length) }, async () => {
      try {
        while (!stopped && next < items.length) await work(items[next++]!);
      } catch (error) {
        stopped = true;
        throw error;
      }
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Why a delivery step failed, in the destination's words, and whether its retry window ran out.
 * Temporal ends a step whose next retry would start after the window with the last attempt's
 * failure (retry state TIMEOUT); a window that closes otherwise is a timeout failure of its own,
 * without a cause when an attempt was still running (a destination that takes the message and
 * never answers).
 */
function failureMessage(error: unknown, retryForMs: number): string {
  if (!(error instanceof ActivityFailure) || !error.cause) return (error as Error).message;
  const { cause } = error;
  const window = `no attempt succeeded in ${Math.round(retryForMs / 1000)} s of retries`;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_CLOSE') {
    return cause.cause ? `${window}; the last one failed: ${cause.cause.message}` : `${window}; the last one was still running`;
  }
  return error.retryState === 'TIMEOUT' ? `${window}; the last one failed: ${cause.message}` : cause.message;
}
