import { z } from 'zod';
import { cocDataGroupValuesSchema, iviSimpleTypeSchemas } from './index.ts';
import { typeApprovalNumberSchema } from '../vehicle-record.ts';

/** One approved variant/version and its technical values (any subset of CocDataGroup). */
export const typeApprovalVersionSchema = z.object({
  variant: iviSimpleTypeSchemas.Text25,
  version: iviSimpleTypeSchemas.Text35,
  values: cocDataGroupValuesSchema,
});

/**
 * Type-approval master data: the approval itself (number unique per manufacturer) and the
 * variants/versions vehicles are built to. The approval's own columns fill the identity fields
 * of a certificate (TypeApprovalNumber, TypeApprovalIssueDate, VehicleCategory, Type, …).
 */
export const typeApprovalSchema = z.object({
  manufacturerId: z.string().min(1),
  number: typeApprovalNumberSchema,
  issueDate: iviSimpleTypeSchemas.Date.refine((date) => /^\d{4}-\d{2}-\d{2}$/.test(date), 'issue date without time zone, YYYY-MM-DD'),
  typeApprovalType: iviSimpleTypeSchemas.TypeApprovalTypeCode.default('EU'),
  vehicleCategory: iviSimpleTypeSchemas.VehicleCategoryCode,
  /** The approval authority's code (`e6`); the certificate's DesignatedTypeApprovalCountry. */
  approvalCountry: iviSimpleTypeSchemas.TypeApprovalCountryCode,
  type: iviSimpleTypeSchemas.Text15,
  versions: z.array(typeApprovalVersionSchema).min(1),
});

export type TypeApproval = z.infer<typeof typeApprovalSchema>;
export type TypeApprovalInput = z.input<typeof typeApprovalSchema>;
export type TypeApprovalVersion = z.infer<typeof typeApprovalVersionSchema>;
