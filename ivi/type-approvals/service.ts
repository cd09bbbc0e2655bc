import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Database } from '../../platform/database/prisma.ts';
import {
  correctionsWorkflowId,
  impactProgressQuery,
  impactWorkflowId,
  TYPE_APPROVAL_IMPACT_WORKFLOW_TYPE,
  type TypeApprovalImpactInput,
} from '../../workflows/type-approval-impact/definitions.ts';

type ImpactWorkflow = (input: TypeApprovalImpactInput) => Promise<unknown>;

/**
 * Starts the change impact of a published revision. One run per revision: a repeated call (a
 * retried publish request) finds the running or finished one.
 */
export async function startImpact(client: Client, taskQueue: string, revisionId: string, publishedBy: string): Promise<string> {
  const workflowId = impactWorkflowId(revisionId);
  await client.workflow.start<ImpactWorkflow>(TYPE_APPROVAL_IMPACT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [{ revisionId, mode: 'analyse', requestedBy: publishedBy }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  }).catch((error: unknown) => {
    // Finished already: the impact was applied once, which is what publishing asks for.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  });
  return workflowId;
}

/**
 * Issues corrections for a revision's correction candidates (all, or the ones named) as one
 * run, keyed by the request: the same request twice is the same run.
 */
export async function startCorrections(
  db: Database,
  client: Client,
  taskQueue: string,
  revisionId: string,
  requestedBy: string,
  certificateIds: string[] | undefined,
): Promise<{ workflowId: string; candidates: number }> {
  const ids = certificateIds ? [...new Set(certificateIds)].sort() : undefined;
  const candidates = await db.typeApprovalImpact.count({ where: { revisionId, action: 'correction_candidate', ...(ids ? { certificateId: { in: ids } } : {}) } });
  const requestId = createHash('sha256').update(JSON.stringify({ requestedBy, ids: ids ?? 'all', candidates })).digest('hex').slice(0, 16);
  const workflowId = correctionsWorkflowId(revisionId, requestId);
  await client.workflow.start<ImpactWorkflow>(TYPE_APPROVAL_IMPACT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [{ revisionId, mode: 'correct', requestedBy, certificateIds: ids }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return { workflowId, candidates };
}

/** The impact run's state for the report (running, completed, …, and its phase). */
export async function impactWorkflowView(client: Client, revisionId: string): Promise<{ workflowId: string; status: string; phase?: string } | null> {
  const handle = client.workflow.getHandle(impactWorkflowId(revisionId));
  try {
    const description = await handle.describe();
    const progress = await handle.query(impactProgressQuery).catch(() => undefined);
    return { workflowId: handle.workflowId, status: description.status.name, ...(progress ? { phase: progress.phase } : {}) };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}
