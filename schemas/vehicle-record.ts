import { z } from 'zod';
import { stageSchema, vinSchema } from './certificate-id.ts';
import { cocDataGroupValuesSchema, iviSimpleTypeSchemas } from './ivi/index.ts';
import { id } from './text.ts';

export { vinSchema };

/**
 * A type-approval number as IVI carries it (Text35). Its Annex IV format is a content rule
 * (IVI-TAN-001), not a shape: national and small-series approvals use other formats.
 */
export const typeApprovalNumberSchema = iviSimpleTypeSchemas.Text35.refine((value) => value.trim() === value, 'must not start or end with spaces');

/**
 * One vehicle as ERP files and the API deliver it (every text under the text rule, schemas/text.ts;
 * IVI values with their XSD lengths): which approval it was built under and its
 * own values (keyed by IVI element names, any subset of CocDataGroup). The certificate's data is
 * the approved variant/version values overlaid with these (see ivi/compose.ts).
 */
export const vehicleRecordSchema = z
  .object({
    manufacturerId: id(),
    vin: vinSchema,
    /** The stage range is the one the certificate id allows (schemas/certificate-id.ts). */
    stage: stageSchema.default(1),
    typeApprovalNumber: typeApprovalNumberSchema,
    variant: iviSimpleTypeSchemas.Text25,
    version: iviSimpleTypeSchemas.Text35,
    /** Where the certificate goes (a NAP or partner name); routing is decided elsewhere. */
    destination: id().optional(),
    intendedCountryRegistration: iviSimpleTypeSchemas.ViennaCountryCode.optional(),
    values: cocDataGroupValuesSchema.default({}),
  })
  .superRefine((record, context) => {
    const identity = [
      ['VehicleIdentificationNumber', record.vin, 'vin'],
      ['TypeApprovalNumber', record.typeApprovalNumber, 'typeApprovalNumber'],
      ['Variant', record.variant, 'variant'],
      ['Version', record.version, 'version'],
    ] as const;
    for (const [field, expected, name] of identity) {
      const given = record.values[field];
      if (given !== undefined && given !== expected) {
        context.addIssue({ code: 'custom', path: ['values', field], message: `${given} contradicts ${name} ${expected}` });
      }
    }
  });

export type VehicleRecord = z.infer<typeof vehicleRecordSchema>;
/** What callers pass in (stage and values may be left out). */
export type VehicleRecordInput = z.input<typeof vehicleRecordSchema>;
