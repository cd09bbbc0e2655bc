import { defineQuery } from '@temporalio/workflow';

/** What publishing a revision does to a certificate, by the state the certificate is in. */
export const impactActions = ['recomposed', 'returned_to_review', 'correction_candidate', 'correction_issued', 'skipped'] as const;
export type ImpactAction = (typeof impactActions)[number];

export interface TypeApprovalImpactInput {
  revisionId: string;
  /** `analyse`: act on every certificate of a changed variant/version after publishing. `correct`: issue corrections for delivered ones. */
  mode: 'analyse' | 'correct';
  /** Who published the revision, or asked for the corrections. */
  requestedBy: string;
  /** For `correct`: only these certificates (default: every correction candidate of the revision). */
  certificateIds?: string[] | undefined;
  /** Carried over by continue-as-new. */
  carried?: ImpactProgress | undefined;
}

export interface ImpactProgress {
  phase: 'waiting_for_effective_date' | 'applying' | 'completed';
  /** The last certificate id handled (pages go in id order). */
  cursor: string | null;
  certificates: number;
  byAction: Partial<Record<ImpactAction, number>>;
}

export interface ImpactPlan {
  /** The revision takes effect at this instant; the workflow waits for it before acting. */
  effectiveAt: string;
  changedVersions: number;
}

export interface ImpactPage {
  /** The last certificate id of the page; null when there are no more. */
  next: string | null;
  byAction: Partial<Record<ImpactAction, number>>;
  certificates: number;
}

export const impactProgressQuery = defineQuery<ImpactProgress>('impactProgress');

export const TYPE_APPROVAL_IMPACT_WORKFLOW_TYPE = 'typeApprovalImpactWorkflow';

/** One impact run per published revision: starting it twice is the same run. */
export function impactWorkflowId(revisionId: string): string {
  return `ecoc-ta-impact-${revisionId}`;
}

/** A bulk correction request for a revision's correction candidates, keyed by the request. */
export function correctionsWorkflowId(revisionId: string, requestId: string): string {
  return `ecoc-ta-corrections-${revisionId}-${requestId}`;
}
