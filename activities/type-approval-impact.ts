import { ApplicationFailure } from '@temporalio/activity';
import { RefusedError } from '../auth/permissions.ts';
import { applyImpactPage, planImpact, recordImpactFinished, type ApplyImpactInput } from '../ivi/type-approvals/impact.ts';
import type { ImpactPage, ImpactPlan, ImpactProgress } from '../workflows/type-approval-impact/definitions.ts';
import type { ActivityDependencies } from './dependencies.ts';

/** A refusal (unknown or unpublished revision) will not change on retry: fail with its kind as the type. */
async function refusalsFinal<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof RefusedError) throw ApplicationFailure.nonRetryable(error.message, error.kind);
    throw error;
  }
}

export function createTypeApprovalImpactActivities({ db, client }: Pick<ActivityDependencies, 'db' | 'client'>) {
  return {
    async planTypeApprovalImpact({ revisionId }: { revisionId: string }): Promise<ImpactPlan> {
      return refusalsFinal(() => planImpact(db, revisionId));
    },

    async applyTypeApprovalImpactPage(input: ApplyImpactInput): Promise<ImpactPage> {
      return refusalsFinal(() => applyImpactPage({ db, client }, input));
    },

    async finishTypeApprovalImpact(input: { revisionId: string; mode: string; requestedBy: string; progress: ImpactProgress }): Promise<void> {
      await recordImpactFinished(db, { revisionId: input.revisionId, mode: input.mode, requestedBy: input.requestedBy, certificates: input.progress.certificates, byAction: input.progress.byAction });
    },
  };
}
