import { z } from 'zod';

/**
 * The certificate model, declared once: statuses, roles and actors, the workflow's state and
 * the messages it accepts. Workflow code imports these as types only (no zod in the workflow
 * bundle); the API validates with the schemas and maps the state to its own view
 * (schemas/api/certificates.ts), so a workflow-internal field is not an API change.
 */

/** Certificate states, as shown in queries, the EcocStatus search attribute and the API. */
export const certificateStatuses = [
  'received',
  'validating',
  'blocked',
  'generated',
  'in_review',
  'approved',
  'rejected',
  'signed',
  'awaiting_release',
  'delivering',
  'delivered',
  'acknowledged',
  'withdrawn',
  'failed',
] as const;
export const certificateStatusSchema = z.enum(certificateStatuses);
export type CertificateStatus = z.infer<typeof certificateStatusSchema>;

/** Roles a credential can carry; what each may do is auth/permissions.ts. */
export const roles = ['integrator', 'homologation', 'reviewer', 'release-manager', 'ops', 'admin'] as const;
export const roleSchema = z.enum(roles);
export type Role = z.infer<typeof roleSchema>;

/** Who does something: the API passes the authenticated identity into every Update. */
export const actorSchema = z.object({
  /** The person (credential subject); four-eyes compares these. */
  id: z.string(),
  roles: z.array(roleSchema),
  /** Request id of the API call, for log correlation. */
  requestId: z.string().optional(),
});
export type Actor = z.infer<typeof actorSchema>;

/** Per-certificate review timing (from configuration at start, so replay stays deterministic). */
export const reviewPolicySchema = z.object({
  escalateAfterMs: z.number(),
  expireAfterMs: z.number(),
  /** Owner the review moves to on escalation. */
  escalationOwner: z.string(),
});
export type ReviewPolicy = z.infer<typeof reviewPolicySchema>;

export const dataSources = ['erp', 'api', 'vecto', 'correction', 'type_approval'] as const;
export type DataSource = (typeof dataSources)[number];

/**
 * A stored data version handed to the workflow. It carries the routing fields a new version can
 * change, so the workflow's state and search attributes follow them; both are absent in
 * versions recorded before they were carried (the workflow then keeps what it has), and
 * `destination: null` means the version names none.
 */
export const dataVersionRefSchema = z.object({
  dataVersion: z.number().int(),
  dataHash: z.string(),
  by: actorSchema,
  source: z.enum(dataSources),
  typeApprovalNumber: z.string().optional(),
  destination: z.string().nullable().optional(),
  /**
   * Everyone who authored a value of this version: who delivered the record and every author of
   * a correction it carries (four-eyes). Absent in versions recorded before it was carried.
   */
  authors: z.array(z.string()).optional(),
});
export type DataVersionRef = z.infer<typeof dataVersionRefSchema>;

/** Which certificate: one per VIN and manufacturer stage, and where it goes. */
export const certificateIdentitySchema = z.object({
  certificateId: z.string(),
  vin: z.string(),
  stage: z.number().int(),
  manufacturerId: z.string(),
  typeApprovalNumber: z.string(),
  destination: z.string().optional(),
});
export type CertificateIdentity = z.infer<typeof certificateIdentitySchema>;

const timestamp = z.string();

export const findingsSummarySchema = z.object({
  ruleSetVersion: z.string(),
  errors: z.number().int(),
  warnings: z.number().int(),
  /** The blocking findings (small: rule id, path, message, owner). */
  blocking: z.array(z.object({ ruleId: z.string(), path: z.string(), message: z.string(), owner: z.string() })),
});
export type FindingsSummary = z.infer<typeof findingsSummarySchema>;

export const signatureInfoSchema = z.object({
  certificateFingerprint: z.string(),
  documentHash: z.string(),
  signatureValueHash: z.string(),
  signedAt: timestamp,
});
export type SignatureInfo = z.infer<typeof signatureInfoSchema>;

/** One message version delivered to one destination. */
export const deliveryReceiptSchema = z.object({
  messageVersion: z.number().int(),
  iviReferenceId: z.string(),
  destination: z.string(),
  reference: z.string(),
  at: timestamp,
  acknowledged: z.boolean().optional(),
  batchId: z.string().optional(),
});
export type DeliveryReceipt = z.infer<typeof deliveryReceiptSchema>;

export const transitionSchema = z.object({
  from: certificateStatusSchema,
  to: certificateStatusSchema,
  actor: z.string(),
  at: timestamp,
  note: z.string().optional(),
});
export type Transition = z.infer<typeof transitionSchema>;

const decisionSchema = z.object({ by: z.string(), reason: z.string() });

/** The certificate workflow's state (its status query); carried over by continue-as-new. */
export const certificateStateSchema = certificateIdentitySchema.extend({
  status: certificateStatusSchema,
  dataVersion: z.number().int(),
  dataHash: z.string(),
  /** Who submitted the vehicle's data, and who last changed it (four-eyes). */
  submittedBy: z.string(),
  lastChangedBy: z.string(),
  /** Everyone who authored a value of the current data version (four-eyes; see DataVersionRef). */
  authors: z.array(z.string()).optional(),
  /** IviVersionNumber of the current message (1 for the first issue, +1 per correction after delivery). */
  messageVersion: z.number().int(),
  iviReferenceId: z.string().optional(),
  messageHash: z.string().optional(),
  /** The message version last delivered, if any. */
  deliveredMessageVersion: z.number().int().optional(),
  findings: findingsSummarySchema.optional(),
  owner: z.string().optional(),
  reviewDeadline: timestamp.optional(),
  reviewExpiresAt: timestamp.optional(),
  escalated: z.boolean(),
  /** "Release now" was asked for; the batch of one starts once the message is signed. */
  releaseImmediately: z.boolean(),
  batchId: z.string().optional(),
  signature: signatureInfoSchema.optional(),
  receipts: z.array(deliveryReceiptSchema),
  transitions: z.array(transitionSchema),
  failure: z.object({ step: z.string(), reason: z.string() }).optional(),
  rejection: decisionSchema.optional(),
  withdrawal: decisionSchema.optional(),
});
export type CertificateState = z.infer<typeof certificateStateSchema>;

/** What starts a certificate workflow. */
export interface CertificateInput extends CertificateIdentity {
  /** The first data version (already stored by the ingest path). */
  data: DataVersionRef;
  review: ReviewPolicy;
  initialOwner?: string | undefined;
  /** Carried over by continue-as-new. */
  carried?: CertificateState | undefined;
}
