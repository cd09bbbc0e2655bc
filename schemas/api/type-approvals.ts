import { id, text } from '../text.ts';
import { typeApprovalFileFormatSchema, typeApprovalFileProblemSchema } from '../ivi/type-approval-file.ts';
import { revisionMetaSchema, typeApprovalDraftSchema, typeApprovalRevisionSchema, typeApprovalSchema } from '../ivi/type-approval.ts';
import { z } from './openapi-zod.ts';

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const timestamp = z.string().openapi({ format: 'date-time' });

export const typeApprovalParamsSchema = z.object({ typeApprovalId: uuid.openapi({ example: '0b6f4c0e-8d0a-4c52-9a57-6c1f1c0f4a11' }) });
export const revisionParamsSchema = z.object({ revisionId: uuid.openapi({ example: '5f0e2f7d-3c1b-4b9e-8a66-0d2b7f3c9e21' }) });

export const typeApprovalListQuerySchema = z.object({
  q: text({ max: 100 }).optional().openapi({ description: 'Part of the approval number or the type, case-insensitive' }),
  manufacturerId: id().optional().openapi({ description: 'Narrows within the caller’s manufacturers' }),
});

export const typeApprovalExample = {
  manufacturerId: 'acme',
  number: 'e6*2018/858*00264*01',
  baseAct: '(EU) 2018/858',
  issueDate: '2023-11-24',
  typeApprovalType: 'EU',
  vehicleCategory: 'M1',
  approvalCountry: 'e6',
  type: 'EBM1(M)',
  revision: { extensionNumber: '01', effectiveDate: '2024-01-01', reason: 'extension 01: new version XEBM15L-FWD' },
  versions: [{ variant: 'XEBM15(W)', version: 'XEBM15L-FWD', values: { MassGroup: { MassInRunningOrder: 2050 } } }],
};

export const typeApprovalDraftBodySchema = typeApprovalDraftSchema.meta({ id: 'TypeApprovalDraft', example: typeApprovalExample });

export const typeApprovalSummarySchema = z
  .object({
    id: z.string(),
    manufacturerId: z.string(),
    number: z.string(),
    type: z.string(),
    vehicleCategory: z.string(),
    revisions: z.number().int(),
    published: z.object({ id: z.string(), sequence: z.number().int(), extensionNumber: z.string(), effectiveDate: z.string(), publishedAt: timestamp.nullable() }).nullable(),
    draft: z.object({ id: z.string(), sequence: z.number().int(), extensionNumber: z.string(), draftedBy: z.array(z.string()) }).nullable(),
    versions: z.number().int(),
  })
  .openapi('TypeApprovalSummary');

export const typeApprovalListSchema = z.object({ approvals: z.array(typeApprovalSummarySchema) });

export const typeApprovalRevisionViewSchema = typeApprovalRevisionSchema.meta({ id: 'TypeApprovalRevision' });

export const typeApprovalDetailSchema = z
  .object({ id: z.string(), manufacturerId: z.string(), number: z.string(), revisions: z.array(typeApprovalRevisionViewSchema) })
  .openapi('TypeApprovalDetail');

export const revisionContentSchema = z
  .object({ revision: typeApprovalRevisionViewSchema, approval: typeApprovalSchema.meta({ id: 'TypeApproval' }) })
  .openapi('TypeApprovalRevisionContent');

export const savedDraftSchema = z.object({ typeApprovalId: z.string(), revisionId: z.string(), sequence: z.number().int(), created: z.boolean() }).openapi('SavedTypeApprovalDraft');

export const openDraftBodySchema = revisionMetaSchema.meta({
  id: 'TypeApprovalRevisionMeta',
  example: { extensionNumber: '02', effectiveDate: '2025-03-01', reason: 'amendment: mass in running order corrected' },
});

export const draftValueBodySchema = z
  .object({
    variant: text({ min: 1, max: 25 }),
    version: text({ min: 1, max: 35 }),
    path: text({ min: 1, max: 300 }).openapi({ description: 'IVI field path below CocDataGroup (`MassGroup/MassInRunningOrder`, `AxleTable/AxleGroup[1]/AxleNumber`)' }),
    value: z.unknown().openapi({ description: 'The new value, of the IVI field’s type; null removes it' }),
  })
  .openapi('TypeApprovalDraftValue', { example: { variant: 'XEBM15(W)', version: 'XEBM15L-FWD', path: 'MassGroup/MassInRunningOrder', value: 2070 } });

export const draftValueResultSchema = z.object({ path: z.string(), value: z.unknown() });

const fileFormatSchema = typeApprovalFileFormatSchema;

export const importBodySchema = z
  .object({
    manufacturerId: id().optional().openapi({ description: 'Whose approval the file is (default: the caller’s only manufacturer)' }),
    format: fileFormatSchema,
    /** The file, base64-encoded (spreadsheets are binary). */
    content: z.string().max(30_000_000).openapi({ description: 'The file, base64-encoded' }),
    fileName: text({ max: 255 }).optional(),
    dryRun: z.boolean().default(false).openapi({ description: 'Check the file and report, store nothing' }),
  })
  .openapi('TypeApprovalImport', { example: { manufacturerId: 'acme', format: 'csv', content: 'bnVtYmVyLGlzc3VlRGF0ZSwuLi4=', fileName: 'e6-00264.csv', dryRun: false } });

const fileProblemSchema = typeApprovalFileProblemSchema.meta({ id: 'TypeApprovalFileProblem' });

export const importReportSchema = z
  .object({
    status: z.enum(['saved', 'checked', 'rejected']),
    problems: z.array(fileProblemSchema),
    warnings: z.array(fileProblemSchema),
    draft: savedDraftSchema.optional(),
    number: z.string().optional(),
    versions: z.number().int().optional(),
  })
  .openapi('TypeApprovalImportReport');

export const exportQuerySchema = z.object({ format: fileFormatSchema.default('xlsx') });

export const diffQuerySchema = z.object({
  against: uuid.optional().openapi({ description: 'The earlier revision (default: the published revision in effect before this one)' }),
});

const fieldChangeSchema = z.object({ path: z.string(), from: z.unknown(), to: z.unknown() });

export const revisionDiffSchema = z
  .object({
    from: typeApprovalRevisionViewSchema.nullable(),
    to: typeApprovalRevisionViewSchema,
    approval: z.array(fieldChangeSchema),
    versions: z.array(z.object({ variant: z.string(), version: z.string(), change: z.enum(['added', 'removed', 'changed']), fields: z.array(fieldChangeSchema) })),
  })
  .openapi('TypeApprovalRevisionDiff');

export const publishResultSchema = z.object({ revision: typeApprovalRevisionViewSchema, impactWorkflowId: z.string() }).openapi('TypeApprovalPublished');

export const impactActionSchema = z.enum(['recomposed', 'returned_to_review', 'correction_candidate', 'correction_issued', 'skipped']);

export const impactReportSchema = z
  .object({
    revision: typeApprovalRevisionViewSchema,
    previousRevisionId: z.string().nullable(),
    workflow: z.object({ workflowId: z.string(), status: z.string(), phase: z.string().optional() }).nullable(),
    changedVersions: z.number().int(),
    counts: z.object({ byStatusAtImpact: z.record(z.string(), z.number().int()), byAction: z.record(z.string(), z.number().int()), byStatusNow: z.record(z.string(), z.number().int()) }),
    certificates: z.array(
      z.object({
        certificateId: z.string(),
        vin: z.string(),
        variant: z.string(),
        version: z.string(),
        statusAtImpact: z.string(),
        statusNow: z.string(),
        action: impactActionSchema,
        dataVersion: z.number().int().nullable(),
        changedFields: z.array(fieldChangeSchema),
      }),
    ),
    truncated: z.boolean(),
  })
  .openapi('TypeApprovalImpactReport');

export const correctionsBodySchema = z
  .object({
    certificateIds: z.array(text({ min: 1, max: 80 })).max(10_000).optional().openapi({ description: 'Only these correction candidates (default: all of them)' }),
  })
  .openapi('TypeApprovalCorrections', { example: { certificateIds: ['ecoc-WVWZZZ1JZXW000001-s1'] } });

export const correctionsStartedSchema = z.object({ workflowId: z.string(), candidates: z.number().int() }).openapi('TypeApprovalCorrectionsStarted');

export const readinessSchema = z
  .object({
    typeApprovalId: z.string(),
    number: z.string(),
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
    blockingRules: z.array(z.object({ code: z.string(), certificates: z.number().int() })),
    versions: z.array(
      z.object({
        variant: z.string(),
        version: z.string(),
        total: z.number().int(),
        byStatus: z.record(z.string(), z.number().int()),
        blockingRules: z.array(z.object({ code: z.string(), certificates: z.number().int() })),
        /** Every certificate of the group delivered or acknowledged. */
        ready: z.boolean(),
      }),
    ),
  })
  .openapi('TypeApprovalReadiness');

export const readinessOverviewSchema = z
  .object({
    approvals: z.array(
      z.object({
        typeApprovalId: z.string(),
        manufacturerId: z.string(),
        number: z.string(),
        certificates: z.number().int(),
        /** Delivered or acknowledged. */
        delivered: z.number().int(),
        blocked: z.number().int(),
        inReview: z.number().int(),
      }),
    ),
  })
  .openapi('TypeApprovalReadinessOverview');
