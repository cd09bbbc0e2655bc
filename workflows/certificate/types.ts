import type { CertificateStatus, Role } from './status.ts';

/** Who does something: the API passes the authenticated identity into every update. */
export interface Actor {
  id: string;
  roles: Role[];
  /** Request id of the API call, for log correlation. */
  requestId?: string;
}

/** Per-certificate review timing (from configuration at start, so replay stays deterministic). */
export interface ReviewPolicy {
  escalateAfterMs: number;
  expireAfterMs: number;
  /** Owner the review moves to on escalation. */
  escalationOwner: string;
}

/** Which certificate: one per VIN and manufacturer stage, and where it goes. */
export interface CertificateIdentity {
  certificateId: string;
  vin: string;
  stage: number;
  manufacturerId: string;
  typeApprovalNumber: string;
  destination?: string | undefined;
}

export interface CertificateInput extends CertificateIdentity {
  /** The first data version (already stored by the ingest path). */
  data: DataVersionRef;
  review: ReviewPolicy;
  initialOwner?: string | undefined;
  /** Carried over by continue-as-new. */
  carried?: CertificateState | undefined;
}

export interface DataVersionRef {
  dataVersion: number;
  dataHash: string;
  by: Actor;
  source: 'erp' | 'api' | 'vecto' | 'correction';
}

export interface FindingsSummary {
  ruleSetVersion: string;
  errors: number;
  warnings: number;
  /** The blocking findings (small: rule id, path, message, owner). */
  blocking: { ruleId: string; path: string; message: string; owner: string }[];
}

export interface SignatureInfo {
  certificateFingerprint: string;
  documentHash: string;
  signatureValueHash: string;
  signedAt: string;
}

export interface DeliveryReceipt {
  messageVersion: number;
  iviReferenceId: string;
  destination: string;
  reference: string;
  at: string;
  acknowledged?: boolean;
  batchId?: string | undefined;
}

export interface Transition {
  from: CertificateStatus;
  to: CertificateStatus;
  actor: string;
  at: string;
  note?: string | undefined;
}

export interface CertificateState extends CertificateIdentity {
  status: CertificateStatus;
  dataVersion: number;
  dataHash: string;
  /** Who submitted the vehicle's data, and who last changed it (four-eyes). */
  submittedBy: string;
  lastChangedBy: string;
  /** IviVersionNumber of the current message (1 for the first issue, +1 per correction after delivery). */
  messageVersion: number;
  iviReferenceId?: string | undefined;
  messageHash?: string | undefined;
  /** The message version last delivered, if any. */
  deliveredMessageVersion?: number | undefined;
  findings?: FindingsSummary | undefined;
  owner?: string | undefined;
  reviewDeadline?: string | undefined;
  reviewExpiresAt?: string | undefined;
  escalated: boolean;
  releaseImmediately: boolean;
  batchId?: string | undefined;
  signature?: SignatureInfo | undefined;
  receipts: DeliveryReceipt[];
  transitions: Transition[];
  failure?: { step: string; reason: string } | undefined;
  rejection?: { by: string; reason: string } | undefined;
  withdrawal?: { by: string; reason: string } | undefined;
}
