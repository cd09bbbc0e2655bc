import { ApplicationFailure } from '@temporalio/common';
import { forbiddenMessage, may, type Permission, type RefusalKind } from '../../auth/permissions.ts';
import type { Actor, CertificateState, CertificateStatus, DataVersionRef } from '../../schemas/certificate.ts';
import { textProblem } from '../../schemas/text-rule.ts';
import type { ApproveRequest, CorrectRequest, DeliveryReport, ReassignRequest, RejectRequest, WithdrawRequest } from './definitions.ts';

/**
 * Update validators: pure functions of the state and the request. A refusal throws before
 * anything is recorded, so the caller gets the reason and the workflow history gets no event;
 * the failure's type is the refusal kind, which the API maps to an HTTP status.
 */
export function refuse(kind: RefusalKind, message: string): never {
  throw ApplicationFailure.create({ message, type: kind, nonRetryable: true });
}

function requirePermission(actor: Actor | undefined, permission: Permission, action: string): asserts actor is Actor {
  if (!actor?.id) refuse('forbidden', `${action}: the caller's identity is missing`);
  optionalText(actor.id, `${action}: the caller's identity`, 200);
  if (!may(actor.roles, permission)) refuse('forbidden', forbiddenMessage(action, actor.id, actor.roles, permission));
}

/** Required text, storable as it is (the same rule as the API's): an activity must be able to persist it. */
function requireText(value: string | undefined, message: string, what: string, max?: number): void {
  if (typeof value !== 'string' || !value.trim()) refuse('invalid', message);
  optionalText(value, what, max);
}

function optionalText(value: string | undefined, what: string, max?: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string') refuse('invalid', `${what} must be text`);
  const problem = textProblem(value, max);
  if (problem) refuse('invalid', `${what} ${problem}`);
}

export function isCurrentData(state: CertificateState, ref: Pick<DataVersionRef, 'dataVersion' | 'dataHash'>): boolean {
  return ref.dataVersion === state.dataVersion && ref.dataHash === state.dataHash;
}

function requireNewerData(state: CertificateState, dataVersion: number): void {
  if (dataVersion <= state.dataVersion) refuse('stale_version', `data version ${dataVersion} is not newer than the current version ${state.dataVersion}`);
}

export function validateSubmitData(state: CertificateState, ref: DataVersionRef): void {
  requirePermission(ref.by, 'vehicles.submit', 'submit vehicle data');
  // A withdrawn certificate stays withdrawn: no data, not even a repeat of what it had.
  if (state.status === 'withdrawn' || state.withdrawal) refuse('not_allowed_in_state', 'the certificate was withdrawn');
  if (isCurrentData(state, ref)) return; // a repeated ingest of what the workflow already has
  requireNewerData(state, ref.dataVersion);
}

const correctable = new Set<CertificateStatus>([
  'received',
  'validating',
  'blocked',
  'generated',
  'in_review',
  'rejected',
  'approved',
  'signed',
  'awaiting_release',
  'delivered',
  'acknowledged',
  'failed',
]);

export function validateCorrection(state: CertificateState, request: CorrectRequest): void {
  requirePermission(request.actor, 'certificates.correct', 'correct');
  if (!correctable.has(state.status)) refuse('not_allowed_in_state', `cannot correct in state ${state.status}`);
  requireText(request.reason, 'a correction needs a reason', 'the reason');
  requireNewerData(state, request.dataVersion);
}

export function validateApprove(state: CertificateState, request: ApproveRequest): void {
  requirePermission(request.actor, 'certificates.approve', 'approve');
  optionalText(request.comment, 'the comment');
  if (state.status !== 'in_review') refuse('not_allowed_in_state', `cannot approve in state ${state.status}; only a certificate in review can be approved`);
  if (request.dataVersion !== state.dataVersion) {
    refuse('stale_version', `stale approval: you reviewed data version ${request.dataVersion}, the current version is ${state.dataVersion}`);
  }
  // Four-eyes: whoever submitted or last changed the data may not approve it.
  if (request.actor.id === state.lastChangedBy) refuse('four_eyes', `four-eyes: ${request.actor.id} last changed this data and cannot approve it`);
  if (request.actor.id === state.submittedBy) refuse('four_eyes', `four-eyes: ${request.actor.id} submitted this data and cannot approve it`);
  if (state.authors?.includes(request.actor.id)) {
    refuse('four_eyes', `four-eyes: ${request.actor.id} authored values of data version ${state.dataVersion} and cannot approve it`);
  }
}

export function validateReject(state: CertificateState, request: RejectRequest): void {
  requirePermission(request.actor, 'certificates.reject', 'reject');
  if (state.status !== 'in_review') refuse('not_allowed_in_state', `cannot reject in state ${state.status}; only a certificate in review can be rejected`);
  requireText(request.reason, 'a rejection needs a reason', 'the reason');
}

export function validateWithdraw(state: CertificateState, request: WithdrawRequest): void {
  requirePermission(request.actor, 'certificates.withdraw', 'withdraw');
  if (state.status === 'withdrawn' || state.withdrawal) refuse('not_allowed_in_state', 'the certificate is already withdrawn');
  if (state.status === 'delivering') refuse('not_allowed_in_state', 'a delivery is in progress; withdraw after it has finished');
  requireText(request.reason, 'a withdrawal needs a reason', 'the reason');
}

export function validateReassign(state: CertificateState, request: ReassignRequest): void {
  requirePermission(request.actor, 'certificates.reassign', 'reassign');
  requireText(request.owner, 'the new owner is missing', 'the owner', 200);
  if (state.status === 'withdrawn') refuse('not_allowed_in_state', 'the certificate was withdrawn');
}

const releasable = new Set<CertificateStatus>(['approved', 'signed', 'awaiting_release']);

export function validateReleaseNow(state: CertificateState, request: { actor: Actor }): void {
  requirePermission(request.actor, 'certificates.release', 'release immediately');
  if (!releasable.has(state.status)) refuse('not_allowed_in_state', `cannot release in state ${state.status}; the certificate must be approved`);
  if (!state.destination) refuse('not_allowed_in_state', 'the certificate has no destination');
}

export function validateRetry(state: CertificateState, request: { actor: Actor }): void {
  requirePermission(request.actor, 'certificates.retry', 'retry');
  if (state.status !== 'failed') refuse('not_allowed_in_state', `only a failed certificate can be retried (state is ${state.status})`);
}

export function validateDeliveryReport(state: CertificateState, report: DeliveryReport): void {
  if (state.status !== 'delivering' || state.batchId !== report.batchId) {
    refuse('not_allowed_in_state', `no delivery of batch ${report.batchId} in progress (state ${state.status})`);
  }
}
