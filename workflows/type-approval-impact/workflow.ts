import { continueAsNew, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { impactProgressQuery, type ImpactAction, type ImpactProgress, type TypeApprovalImpactInput } from './definitions.ts';

const impact = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['not_found', 'invalid'] },
});

/**
 * What a published type-approval revision changes: every certificate of a changed variant/version
 * is composed again (a new data version, source `type_approval`) and goes through validation and
 * review again, unless it was delivered: those become correction candidates, corrected only on
 * request (mode `correct`, a new message version through the normal review). Pages through the
 * certificates in id order, so a run over 50,000 holds one page at a time and resumes where it was.
 */
export async function typeApprovalImpactWorkflow(input: TypeApprovalImpactInput): Promise<ImpactProgress> {
  const progress: ImpactProgress = input.carried ?? { phase: 'applying', cursor: null, certificates: 0, byAction: {} };
  setHandler(impactProgressQuery, () => progress);

  if (!input.carried && input.mode === 'analyse') {
    const plan = await impact.planTypeApprovalImpact({ revisionId: input.revisionId });
    const wait = Date.parse(plan.effectiveAt) - Date.now();
    if (wait > 0) {
      progress.phase = 'waiting_for_effective_date';
      await sleep(wait);
    }
    progress.phase = 'applying';
  }
  for (;;) {
    const page = await impact.applyTypeApprovalImpactPage({
      revisionId: input.revisionId,
      mode: input.mode,
      requestedBy: input.requestedBy,
      after: progress.cursor,
      certificateIds: input.certificateIds,
    });
    progress.certificates += page.certificates;
    for (const [action, count] of Object.entries(page.byAction) as [ImpactAction, number][]) progress.byAction[action] = (progress.byAction[action] ?? 0) + count;
    progress.cursor = page.next;
    if (page.next === null) break;
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof typeApprovalImpactWorkflow>({ ...input, carried: progress });
  }
  progress.phase = 'completed';
  await impact.finishTypeApprovalImpact({ revisionId: input.revisionId, mode: input.mode, requestedBy: input.requestedBy, progress });
  return progress;
}
