import { continueAsNew, proxyActivities, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { EcocBatchId, EcocDestination } from '../search-attributes.ts';
import type { AcknowledgementWatchInput, AcknowledgementWatchResult } from './definitions.ts';

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Polls stay cheap in history, but a week of them is thousands of events: start afresh well before the limit. */
const HISTORY_EVENTS = 2_000;

/**
 * Watches one batch's SFTP packages for the partner's `<package>.ack.json` and acknowledges the
 * certificates in each (signal per certificate). Separate from the release run so a partner that
 * answers tomorrow does not keep the destination's release busy; ends when every package is
 * acknowledged or at the deadline (the receipts then stay unacknowledged, visible as such).
 */
export async function releaseAcknowledgementWorkflow(input: AcknowledgementWatchInput): Promise<AcknowledgementWatchResult> {
  upsertSearchAttributes([
    { key: EcocDestination, value: input.destination },
    { key: EcocBatchId, value: input.batchId },
  ]);
  let pending = [...input.packageIds];
  let accepted = input.accepted ?? 0;
  let rejected = input.rejected ?? 0;
  const deadline = new Date(input.deadline).getTime();
  for (;;) {
    const found = await steps.collectAcknowledgements({ destination: input.destination, packageIds: pending });
    pending = pending.filter((id) => !found.acknowledged.includes(id));
    accepted += found.accepted;
    rejected += found.rejected;
    const left = deadline - Date.now();
    if (pending.length === 0 || left <= 0) return { batchId: input.batchId, pendingPackages: pending, accepted, rejected };
    await sleep(Math.min(input.pollIntervalMs, left));
    if (workflowInfo().historyLength >= HISTORY_EVENTS || workflowInfo().continueAsNewSuggested) {
      return await continueAsNew<typeof releaseAcknowledgementWorkflow>({ ...input, packageIds: pending, accepted, rejected });
    }
  }
}
