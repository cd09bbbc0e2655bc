import type { CertificateSummary, CertificateView } from '../../../schemas/api/certificates.ts';
import type { CertificateState } from '../../../schemas/certificate.ts';
import type { CertificateRow } from './access.ts';

/**
 * The one mapping from the workflow's state to what the API shows (`CertificateView`), used by
 * every route that returns a certificate's live state (detail, status, every action). Fields are
 * named one by one: what the workflow keeps for itself (data and message hashes, state carried
 * over by continue-as-new) stays out, and a new workflow field is not an API field until it is
 * added here and to the schema. `releaseRequested` is the workflow's `releaseImmediately`: the
 * console follows such a certificate while it waits for its own release.
 */
export function certificateView(state: CertificateState): CertificateView {
  return {
    certificateId: state.certificateId,
    vin: state.vin,
    stage: state.stage,
    manufacturerId: state.manufacturerId,
    typeApprovalNumber: state.typeApprovalNumber,
    destination: state.destination,
    status: state.status,
    dataVersion: state.dataVersion,
    submittedBy: state.submittedBy,
    lastChangedBy: state.lastChangedBy,
    messageVersion: state.messageVersion,
    iviReferenceId: state.iviReferenceId,
    deliveredMessageVersion: state.deliveredMessageVersion,
    findings: state.findings && {
      ruleSetVersion: state.findings.ruleSetVersion,
      errors: state.findings.errors,
      warnings: state.findings.warnings,
      blocking: state.findings.blocking.map(({ ruleId, path, message, owner }) => ({ ruleId, path, message, owner })),
    },
    owner: state.owner,
    reviewDeadline: state.reviewDeadline,
    reviewExpiresAt: state.reviewExpiresAt,
    escalated: state.escalated,
    releaseRequested: state.releaseImmediately,
    batchId: state.batchId,
    signature: state.signature && {
      certificateFingerprint: state.signature.certificateFingerprint,
      documentHash: state.signature.documentHash,
      signatureValueHash: state.signature.signatureValueHash,
      signedAt: state.signature.signedAt,
    },
    receipts: state.receipts.map((receipt) => ({
      messageVersion: receipt.messageVersion,
      iviReferenceId: receipt.iviReferenceId,
      destination: receipt.destination,
      reference: receipt.reference,
      at: receipt.at,
      acknowledged: receipt.acknowledged,
      batchId: receipt.batchId,
    })),
    transitions: state.transitions.map(({ from, to, actor, at, note }) => ({ from, to, actor, at, note })),
    failure: state.failure && { step: state.failure.step, reason: state.failure.reason },
    rejection: state.rejection && { by: state.rejection.by, reason: state.rejection.reason },
    withdrawal: state.withdrawal && { by: state.withdrawal.by, reason: state.withdrawal.reason },
  };
}

/** The certificate row (the projection the worker keeps) as a list item. */
export function summary(row: CertificateRow): CertificateSummary {
  return {
    id: row.id,
    manufacturerId: row.manufacturerId,
    vin: row.vin,
    stage: row.stage,
    typeApprovalNumber: row.typeApprovalNumber,
    variant: row.variant,
    version: row.version,
    destination: row.destination,
    status: row.status as CertificateState['status'],
    owner: row.owner,
    dataVersion: row.dataVersion,
    messageVersion: row.messageVersion,
    batchId: row.batchId,
    reviewDeadline: row.reviewDeadline?.toISOString() ?? null,
    statusChangedAt: row.statusChangedAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}
