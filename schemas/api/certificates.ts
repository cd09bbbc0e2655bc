import {
  certificateIdentitySchema,
  certificateStatusSchema,
  deliveryReceiptSchema,
  findingsSummarySchema,
  signatureInfoSchema,
  transitionSchema,
} from '../certificate.ts';
import { iviFieldSchema } from '../ivi/field-paths.ts';
import { FREE_TEXT_MAX, id, text } from '../text.ts';
import { certificateIdSchema, fieldErrorSchema } from './common.ts';
import { z } from './openapi-zod.ts';

const status = certificateStatusSchema;
const timestamp = z.string().openapi({ format: 'date-time' });
const decisionSchema = z.object({ by: z.string(), reason: z.string() });

export const certificateListQuerySchema = z.object({
  status: z
    .union([status, z.array(status)])
    .optional()
    .transform((value) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]))
    .openapi({ description: 'One or more states (repeat the parameter)' }),
  vin: id().optional(),
  typeApprovalNumber: id().optional(),
  destination: id().optional(),
  owner: id().optional(),
  batchId: id().optional(),
  manufacturerId: id().optional().openapi({ description: 'Narrows within the caller’s manufacturers' }),
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
export type CertificateSummary = z.infer<typeof certificateSummarySchema>;

export const certificatePageSchema = z
  .object({ items: z.array(certificateSummarySchema), nextCursor: z.string().nullable() })
  .openapi('CertificatePage');

/**
 * What the API shows of a certificate's live state: built from the certificate model's pieces
 * (schemas/certificate.ts), filled by one mapping (api/routes/certificates/view.ts
 * `certificateView`) from the workflow's state. Fields the workflow keeps for itself (data and
 * message hashes, state carried over by continue-as-new) are not part of it, so changing them is
 * not an API change.
 */
export const certificateViewSchema = certificateIdentitySchema
  .extend({
    status,
    dataVersion: z.number().int().openapi({ description: 'The current data version (approve names the one you reviewed)' }),
    submittedBy: z.string().openapi({ description: 'Who submitted the vehicle data (four-eyes)' }),
    lastChangedBy: z.string().openapi({ description: 'Who last changed the data (four-eyes)' }),
    messageVersion: z.number().int().openapi({ description: 'IviVersionNumber of the current message' }),
    iviReferenceId: z.string().optional(),
    deliveredMessageVersion: z.number().int().optional().openapi({ description: 'The message version last delivered' }),
    findings: findingsSummarySchema.optional(),
    owner: z.string().optional(),
    reviewDeadline: timestamp.optional(),
    reviewExpiresAt: timestamp.optional(),
    escalated: z.boolean(),
    releaseRequested: z.boolean().openapi({ description: '“Release now” was asked for: a release of this certificate alone delivers it, without waiting for a scheduled batch' }),
    batchId: z.string().optional(),
    signature: signatureInfoSchema.extend({ signedAt: timestamp }).optional(),
    receipts: z.array(deliveryReceiptSchema.extend({ at: timestamp })),
    transitions: z.array(transitionSchema.extend({ at: timestamp })),
    failure: z.object({ step: z.string(), reason: z.string() }).optional(),
    rejection: decisionSchema.optional(),
    withdrawal: decisionSchema.optional(),
  })
  .openapi('CertificateView');
export type CertificateView = z.infer<typeof certificateViewSchema>;

export const certificateStatusQuerySchema = z.object({
  live: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .openapi({ description: 'true: also ask the workflow for its live state (a Temporal query; slower, and it loads the workflow if it is not cached)' }),
});

/** The status route: the projection row, and the live workflow state when asked for. */
export const certificateStatusViewSchema = certificateSummarySchema
  .extend({ live: certificateViewSchema.optional().openapi({ description: 'The live workflow state (only with live=true)' }) })
  .openapi('CertificateStatus');

export const findingSchema = z.object({ ruleId: z.string(), path: z.string(), message: z.string(), severity: z.string(), owner: z.string() });

export const certificateDetailSchema = z
  .object({
    certificate: certificateSummarySchema,
    state: certificateViewSchema,
    data: z.object({
      dataVersion: z.number().int(),
      source: z.string(),
      submittedBy: z.string(),
      createdAt: timestamp,
      typeApprovalKnown: z.boolean(),
      typeApproval: z
        .object({ typeApprovalId: z.string(), id: z.string(), sequence: z.number().int(), extensionNumber: z.string() })
        .nullable()
        .openapi({ description: 'The master-data revision (id, sequence) the approved values come from' }),
      values: z.record(z.string(), z.unknown()).openapi({ description: 'Composed CocDataGroup values (type approval + vehicle + corrections)' }),
      provenance: z
        .record(z.string(), z.object({ source: z.string(), by: z.string().optional(), at: z.string().optional(), revisionId: z.string().optional() }))
        .openapi({ description: 'Per leaf field path: where the value came from' }),
      corrections: z.array(z.record(z.string(), z.unknown())),
    }),
    findings: z.object({ ruleSetVersion: z.string().nullable(), items: z.array(findingSchema) }),
    messages: z.array(
      z.object({ iviReferenceId: z.string(), messageVersion: z.number().int(), dataVersion: z.number().int(), signed: z.boolean(), signedAt: timestamp.nullable(), createdAt: timestamp }),
    ),
    history: certificateViewSchema.shape.transitions,
  })
  .openapi('CertificateDetail');

// ---- History: data versions and their diff, delivery receipts ----

export const dataVersionListSchema = z
  .object({
    versions: z.array(
      z.object({
        version: z.number().int(),
        source: z.string(),
        submittedBy: z.string(),
        reason: z.string().nullable(),
        createdAt: timestamp,
        hash: z.string(),
        ruleSetVersion: z.string().nullable(),
        errors: z.number().int(),
        warnings: z.number().int(),
        corrections: z.number().int(),
        /** The type-approval revision the version is composed from (null: not in the master data). */
        typeApprovalRevisionId: z.string().nullable(),
      }),
    ),
  })
  .openapi('DataVersionList');

export const dataDiffQuerySchema = z.object({
  from: z.coerce.number().int().min(1),
  to: z.coerce.number().int().min(1),
});

const provenanceSchema = z.object({ source: z.string(), by: z.string().optional(), at: z.string().optional(), revisionId: z.string().optional() });

export const dataDiffSchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    changes: z.array(
      z.object({
        path: z.string(),
        before: z.unknown(),
        after: z.unknown(),
        beforeSource: provenanceSchema.nullable(),
        afterSource: provenanceSchema.nullable(),
      }),
    ),
  })
  .openapi('DataDiff');

export const receiptListSchema = z
  .object({
    receipts: z.array(
      z.object({
        id: z.string(),
        iviReferenceId: z.string(),
        messageVersion: z.number().int(),
        destination: z.string(),
        kind: z.string(),
        reference: z.string(),
        batchId: z.string().nullable(),
        deliveredAt: timestamp,
        acknowledgedAt: timestamp.nullable(),
      }),
    ),
  })
  .openapi('DeliveryReceiptList');

export type DataVersionList = z.infer<typeof dataVersionListSchema>;
export type DataDiff = z.infer<typeof dataDiffSchema>;
export type ReceiptList = z.infer<typeof receiptListSchema>;

export const messageQuerySchema = z.object({
  variant: z.enum(['signed', 'unsigned']).default('signed'),
  messageVersion: z.coerce.number().int().min(1).optional().openapi({ description: 'Default: the current message version' }),
});

// ---- Review and lifecycle actions (workflow Updates) ----

// Every text under the text rule (schemas/text.ts): what the workflow and PostgreSQL can hold.
const reason = text({ trim: true, min: 1, max: FREE_TEXT_MAX });

export const approveBodySchema = z
  .object({ dataVersion: z.number().int().min(1).openapi({ description: 'The data version you reviewed' }), comment: text({ max: FREE_TEXT_MAX }).optional() })
  .strict()
  .openapi('ApproveRequest', { example: { dataVersion: 1, comment: 'Checked against the homologation file' } });
export const reasonBodySchema = z
  .object({ reason })
  .strict()
  .openapi('ReasonRequest', { example: { reason: 'Wrong colour code: the ERP sends a corrected record' } });
export const reassignBodySchema = z.object({ owner: id({ trim: true }) }).strict().openapi('ReassignRequest', { example: { owner: 'rita' } });

/**
 * A correction: an IVI field path and a value of that field's type (its schema from the
 * generated IVI model, so a wrong type is refused here, before anything is stored).
 */
const correctionBodySchema = z
  .object({
    path: text({ min: 1, max: 300 }).openapi({ example: 'MassGroup/ActualMass' }),
    value: z.unknown().openapi({ description: 'The new value, of the IVI field’s type (a group or table as JSON); null removes the field' }),
    reason: text({ max: FREE_TEXT_MAX }).optional(),
  })
  .strict()
  .superRefine((correction, context) => {
    const field = iviFieldSchema(correction.path);
    if ('problem' in field) {
      context.addIssue({ code: 'custom', path: ['path'], message: field.problem });
      return;
    }
    if (correction.value === null) return;
    const checked = field.schema.safeParse(correction.value);
    for (const issue of checked.error?.issues ?? []) {
      context.addIssue({ code: 'custom', path: ['value', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))], message: `${field.path}: ${issue.message}` });
    }
  });

export const correctBodySchema = z
  .object({ reason, corrections: z.array(correctionBodySchema).min(1).max(500) })
  .strict()
  .openapi('CorrectionRequest', {
    example: { reason: 'Weighed at end of line', corrections: [{ path: 'MassGroup/ActualMass', value: 2190 }, { path: 'ColourTable', value: { ColourGroup: [{ Colour: '1' }] } }] },
  });

export const actionResultSchema = z.object({ state: certificateViewSchema }).openapi('ActionResult');

export { fieldErrorSchema };
