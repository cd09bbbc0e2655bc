import { certificateStatuses, roles } from '../certificate.ts';
import { certificateIdSchema, fieldErrorSchema } from './common.ts';
import { z } from './openapi-zod.ts';

const status = z.enum(certificateStatuses);
const timestamp = z.string().openapi({ format: 'date-time' });

export const certificateListQuerySchema = z.object({
  status: z
    .union([status, z.array(status)])
    .optional()
    .transform((value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]))
    .openapi({ description: 'One or more states (repeat the parameter)' }),
  vin: z.string().optional(),
  typeApprovalNumber: z.string().optional(),
  destination: z.string().optional(),
  owner: z.string().optional(),
  batchId: z.string().optional(),
  manufacturerId: z.string().optional().openapi({ description: 'Narrows within the caller’s manufacturers' }),
  after: certificateIdSchema.optional().openapi({ description: 'Cursor: the last id of the previous page' }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** The certificate row: a projection of the workflow state, kept by the worker with each audit batch. */
export const certificateSummarySchema = z
  .object({
    id: z.string(),
    manufacturerId: z.string(),
    vin: z.string(),
    stage: z.number().int(),
    typeApprovalNumber: z.string(),
    variant: z.string(),
    version: z.string(),
    destination: z.string().nullable(),
    status,
    owner: z.string().nullable(),
    dataVersion: z.number().int(),
    messageVersion: z.number().int(),
    batchId: z.string().nullable(),
    reviewDeadline: timestamp.nullable(),
    statusChangedAt: timestamp,
    createdAt: timestamp,
  })
  .openapi('CertificateSummary');

export const certificatePageSchema = z
  .object({ items: z.array(certificateSummarySchema), nextCursor: z.string().nullable() })
  .openapi('CertificatePage');

const actorName = z.string();

/** The workflow's live state (status query); mirrors schemas/certificate.ts CertificateState. */
export const certificateStateSchema = z
  .object({
    certificateId: z.string(),
    vin: z.string(),
    stage: z.number().int(),
    manufacturerId: z.string(),
    typeApprovalNumber: z.string(),
    destination: z.string().optional(),
    status,
    dataVersion: z.number().int(),
    dataHash: z.string(),
    submittedBy: actorName,
    lastChangedBy: actorName,
    messageVersion: z.number().int(),
    iviReferenceId: z.string().optional(),
    messageHash: z.string().optional(),
    deliveredMessageVersion: z.number().int().optional(),
    findings: z
      .object({
        ruleSetVersion: z.string(),
        errors: z.number().int(),
        warnings: z.number().int(),
        blocking: z.array(z.object({ ruleId: z.string(), path: z.string(), message: z.string(), owner: z.string() })),
      })
      .optional(),
    owner: z.string().optional(),
    reviewDeadline: timestamp.optional(),
    reviewExpiresAt: timestamp.optional(),
    escalated: z.boolean(),
    releaseImmediately: z.boolean(),
    batchId: z.string().optional(),
    signature: z
      .object({ certificateFingerprint: z.string(), documentHash: z.string(), signatureValueHash: z.string(), signedAt: timestamp })
      .optional(),
    receipts: z.array(
      z.object({
        messageVersion: z.number().int(),
        iviReferenceId: z.string(),
        destination: z.string(),
        reference: z.string(),
        at: timestamp,
        acknowledged: z.boolean().optional(),
        batchId: z.string().optional(),
      }),
    ),
    transitions: z.array(z.object({ from: status, to: status, actor: actorName, at: timestamp, note: z.string().optional() })),
    failure: z.object({ step: z.string(), reason: z.string() }).optional(),
    rejection: z.object({ by: z.string(), reason: z.string() }).optional(),
    withdrawal: z.object({ by: z.string(), reason: z.string() }).optional(),
  })
  .openapi('CertificateState');

export const findingSchema = z.object({ ruleId: z.string(), path: z.string(), message: z.string(), severity: z.string(), owner: z.string() });

export const certificateDetailSchema = z
  .object({
    certificate: certificateSummarySchema,
    state: certificateStateSchema,
    data: z.object({
      dataVersion: z.number().int(),
      source: z.string(),
      submittedBy: z.string(),
      createdAt: timestamp,
      typeApprovalKnown: z.boolean(),
      values: z.record(z.string(), z.unknown()).openapi({ description: 'Composed CocDataGroup values (type approval + vehicle + corrections)' }),
      provenance: z
        .record(z.string(), z.object({ source: z.string(), by: z.string().optional(), at: z.string().optional() }))
        .openapi({ description: 'Per leaf field path: where the value came from' }),
      corrections: z.array(z.record(z.string(), z.unknown())),
    }),
    findings: z.object({ ruleSetVersion: z.string().nullable(), items: z.array(findingSchema) }),
    messages: z.array(
      z.object({ iviReferenceId: z.string(), messageVersion: z.number().int(), dataVersion: z.number().int(), signed: z.boolean(), signedAt: timestamp.nullable(), createdAt: timestamp }),
    ),
    history: z.array(z.object({ from: status, to: status, actor: z.string(), at: timestamp, note: z.string().optional() })),
  })
  .openapi('CertificateDetail');

export const messageQuerySchema = z.object({
  variant: z.enum(['signed', 'unsigned']).default('signed'),
  messageVersion: z.coerce.number().int().min(1).optional().openapi({ description: 'Default: the current message version' }),
});

// ---- Review and lifecycle actions (workflow Updates) ----

export const approveBodySchema = z
  .object({ dataVersion: z.number().int().min(1).openapi({ description: 'The data version you reviewed' }), comment: z.string().max(2000).optional() })
  .strict()
  .openapi('ApproveRequest');
export const reasonBodySchema = z.object({ reason: z.string().trim().min(1).max(2000) }).strict().openapi('ReasonRequest');
export const reassignBodySchema = z.object({ owner: z.string().trim().min(1).max(200) }).strict().openapi('ReassignRequest');
export const correctBodySchema = z
  .object({
    reason: z.string().trim().min(1).max(2000),
    corrections: z
      .array(
        z
          .object({
            path: z.string().min(1).max(300).openapi({ example: 'MassGroup/ActualMass' }),
            value: z.unknown().openapi({ description: 'The new value; null removes the field' }),
            reason: z.string().max(2000).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(500),
  })
  .strict()
  .openapi('CorrectionRequest');

export const actionResultSchema = z.object({ state: certificateStateSchema }).openapi('ActionResult');

export const roleSchema = z.enum(roles);
export { fieldErrorSchema };
