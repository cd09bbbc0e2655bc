import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { HttpProblem, notFound } from './problem.ts';

/** The validators' role refusal (workflows/certificate/rules.ts `assertRole`). */
const ROLE_REFUSAL = /(?:has role\(s\) .* is required|the caller's identity is missing)$/;

/**
 * Workflow update refusals keep the validator's message: 403 for role refusals, 409 for state
 * refusals (four-eyes, stale version, wrong state); a certificate without workflow is 404.
 */
export function workflowProblem(error: unknown, certificateId: string): unknown {
  if (error instanceof WorkflowNotFoundError) return notFound(`Certificate ${certificateId}`);
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type === 'Refused') {
      return ROLE_REFUSAL.test(cause.message)
        ? new HttpProblem(403, 'forbidden_role', cause.message)
        : new HttpProblem(409, 'refused', cause.message);
    }
  }
  return error;
}
