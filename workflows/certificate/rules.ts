import { ApplicationFailure } from '@temporalio/workflow';
import type { ApproveRequest, CorrectRequest, WithdrawRequest } from './definitions.ts';
import type { Role } from './status.ts';
import type { Actor, CertificateState } from './types.ts';

/**
 * Update validators: a refusal throws before anything is recorded, so the caller gets the reason
 * and the workflow history gets no event.
 */
export function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, 'Refused');
}

export function assertRole(actor: Actor | undefined, allowed: Role[], action: string): void {
  if (!actor?.id) refuse(`${action}: the caller's identity is missing`);
  if (!actor.roles?.some((role) => allowed.includes(role))) {
    refuse(`${action}: ${actor.id} has role(s) ${actor.roles?.join(', ') || 'none'}; one of ${allowed.join(', ')} is required`);
  }
}

export function validateApprove(state: CertificateState, request: ApproveRequest): void {
  assertRole(request.actor, ['reviewer', 'admin'], 'approve');
  if (state.status !== 'in_review') refuse(`cannot approve in state ${state.status}; only a certificate in review can be approved`);
  if (request.dataVersion !== state.dataVersion) {
    refuse(`stale approval: you reviewed data version ${request.dataVersion}, the current version is ${state.dataVersion}`);
  }
  // Four-eyes: whoever submitted or last changed the data may not approve it.
  if (request.actor.id === state.lastChangedBy) refuse(`four-eyes: ${request.actor.id} last changed this data and cannot approve it`);
  if (request.actor.id === state.submittedBy) refuse(`four-eyes: ${request.actor.id} submitted this data and cannot approve it`);
}

const correctable = new Set(['received', 'validating', 'blocked', 'generated', 'in_review', 'rejected', 'approved', 'signed', 'awaiting_release', 'delivered', 'acknowledged', 'failed']);

export function validateCorrection(state: CertificateState, request: CorrectRequest): void {
  assertRole(request.actor, ['homologation', 'admin'], 'correct');
  if (!correctable.has(state.status)) refuse(`cannot correct in state ${state.status}`);
  if (!request.reason?.trim()) refuse('a correction needs a reason');
  if (request.dataVersion <= state.dataVersion) {
    refuse(`data version ${request.dataVersion} is not newer than the current version ${state.dataVersion}`);
  }
}

export function validateWithdraw(state: CertificateState, request: WithdrawRequest): void {
  assertRole(request.actor, ['homologation', 'admin'], 'withdraw');
  if (state.status === 'withdrawn' || state.withdrawal) refuse('the certificate is already withdrawn');
  if (state.status === 'delivering') refuse('a delivery is in progress; withdraw after it has finished');
  if (!request.reason?.trim()) refuse('a withdrawal needs a reason');
}
