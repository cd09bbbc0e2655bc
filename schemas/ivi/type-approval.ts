import { z } from 'zod';
import { cocDataGroupValuesSchema, iviSimpleTypeSchemas } from './index.ts';
import { typeApprovalNumberSchema } from '../vehicle-record.ts';
import { text } from '../text.ts';

const isoDate = iviSimpleTypeSchemas.Date.refine((date) => /^\d{4}-\d{2}-\d{2}$/.test(date), 'a date without time zone, YYYY-MM-DD');

/** One approved variant/version and its technical values (any subset of CocDataGroup). */
export const typeApprovalVersionSchema = z.object({
  variant: iviSimpleTypeSchemas.Text25,
  version: iviSimpleTypeSchemas.Text35,
  values: cocDataGroupValuesSchema,
});

/**
 * Type-approval master data: the approval itself (number unique per manufacturer) and the
 * variants/versions vehicles are built to, as one revision states them. The approval's own
 * columns fill the identity fields of a certificate (TypeApprovalNumber, TypeApprovalIssueDate,
 * VehicleCategory, Type, …). The root of every type-approval shape below.
 */
export const typeApprovalSchema = z.object({
  manufacturerId: z.string().min(1),
  number: typeApprovalNumberSchema,
  /** The regulation the approval was granted under, e.g. `(EU) 2018/858`. */
  baseAct: text({ max: 100 }).optional(),
  issueDate: isoDate,
  typeApprovalType: iviSimpleTypeSchemas.TypeApprovalTypeCode.default('EU'),
  vehicleCategory: iviSimpleTypeSchemas.VehicleCategoryCode,
  /** The approval authority's code (`e6`); the certificate's DesignatedTypeApprovalCountry. */
  approvalCountry: iviSimpleTypeSchemas.TypeApprovalCountryCode,
  type: iviSimpleTypeSchemas.Text15,
  versions: z.array(typeApprovalVersionSchema).min(1),
});

/** What one revision (the approval's extension or amendment) says about itself. */
export const revisionMetaSchema = z.object({
  /** The extension number the authority gave (`00` for the original approval, `01`, …). */
  extensionNumber: text({ min: 1, max: 10 }),
  /** From this date vehicles are composed from the revision (once published). */
  effectiveDate: isoDate,
  reason: text({ min: 1, max: 1000 }),
});

/** A draft as files and the API bring it: the approval's content and its revision's meta data. */
export const typeApprovalDraftSchema = typeApprovalSchema.extend({ revision: revisionMetaSchema });

export const revisionStatuses = ['draft', 'published'] as const;
export const revisionStatusSchema = z.enum(revisionStatuses);

/** A stored revision: immutable once published; changes are a new draft. */
export const typeApprovalRevisionSchema = typeApprovalSchema.omit({ versions: true, manufacturerId: true }).extend({
  id: z.string(),
  typeApprovalId: z.string(),
  /** 1, 2, …: the order revisions were drafted in. */
  sequence: z.number().int().positive(),
  status: revisionStatusSchema,
  ...revisionMetaSchema.shape,
  /** Everyone who drafted or changed a value of the draft (none of them may publish it). */
  draftedBy: z.array(z.string()),
  publishedBy: z.string().nullable(),
  publishedAt: z.string().nullable(),
  createdAt: z.string(),
});

export type TypeApproval = z.infer<typeof typeApprovalSchema>;
export type TypeApprovalInput = z.input<typeof typeApprovalSchema>;
export type TypeApprovalVersion = z.infer<typeof typeApprovalVersionSchema>;
export type RevisionMeta = z.infer<typeof revisionMetaSchema>;
export type TypeApprovalDraft = z.infer<typeof typeApprovalDraftSchema>;
export type TypeApprovalDraftInput = z.input<typeof typeApprovalDraftSchema>;
export type TypeApprovalRevision = z.infer<typeof typeApprovalRevisionSchema>;
export type RevisionStatus = z.infer<typeof revisionStatusSchema>;
