import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, CertificateState, DataVersionRef, DeliveryReceipt } from '../../schemas/certificate.ts';

/** Human and system steps are Updates: the caller learns at once whether it was accepted. */
export interface ApproveRequest {
  actor: Actor;
  /** The data version the reviewer looked at; a newer one makes the approval stale. */
  dataVersion: number;
  comment?: string;
}
export interface RejectRequest {
  actor: Actor;
  reason: string;
}
export interface CorrectRequest {
  actor: Actor;
  dataVersion: number;
  dataHash: string;
  reason: string;
  /** Everyone who authored a value of the corrected version (as stored; four-eyes). */
  authors?: string[];
}
export interface WithdrawRequest {
  actor: Actor;
  reason: string;
}
export interface ReassignRequest {
  actor: Actor;
  owner: string;
}
export interface ActorRequest {
  actor: Actor;
}

/** What the release workflow learns when it claims a certificate for a batch. */
export interface ReleaseClaim {
  claimed: boolean;
  reason?: string;
  messageVersion?: number;
  iviReferenceId?: string;
}
export type DeliveryReport =
  | { batchId: string; outcome: 'delivered'; receipt: Omit<DeliveryReceipt, 'batchId' | 'messageVersion' | 'iviReferenceId'> }
  | { batchId: string; outcome: 'failed'; reason: string; permanent: boolean };

export const statusQuery = defineQuery<CertificateState>('status');

export const submitDataUpdate = defineUpdate<CertificateState, [DataVersionRef]>('submitData');
export const approveUpdate = defineUpdate<CertificateState, [ApproveRequest]>('approve');
export const rejectUpdate = defineUpdate<CertificateState, [RejectRequest]>('reject');
export const correctUpdate = defineUpdate<CertificateState, [CorrectRequest]>('correct');
export const withdrawUpdate = defineUpdate<CertificateState, [WithdrawRequest]>('withdraw');
export const reassignUpdate = defineUpdate<CertificateState, [ReassignRequest]>('reassign');
export const releaseNowUpdate = defineUpdate<CertificateState, [ActorRequest]>('releaseNow');
export const retryUpdate = defineUpdate<CertificateState, [ActorRequest]>('retry');
export const claimForReleaseUpdate = defineUpdate<ReleaseClaim, [{ batchId: string }]>('claimForRelease');
export const reportDeliveryUpdate = defineUpdate<CertificateState, [DeliveryReport]>('reportDelivery');

/** A partner's acknowledgement file arrived (SFTP); NAP receipts acknowledge synchronously. */
export const acknowledgeSignal = defineSignal<[{ messageVersion: number; reference: string; at: string }]>('acknowledge');

/** The workflow type name clients start (the function in workflow.ts; not imported, so clients stay free of workflow code). */
export const CERTIFICATE_WORKFLOW_TYPE = 'certificateWorkflow';

export function certificateWorkflowId(vin: string, stage: number): string {
  return `ecoc-${vin}-s${stage}`;
}
