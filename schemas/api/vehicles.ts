import { vehicleRecordSchema } from '../vehicle-record.ts';
import { certificateStatuses } from '../certificate.ts';
import { fieldErrorSchema } from './common.ts';
import { z } from './openapi-zod.ts';

/**
 * A record as the API takes it: the vehicle's own values only, the rest comes from the type
 * approval's master data (values from the official M1 specimen).
 */
export const vehicleRecordExample = {
  manufacturerId: 'acme',
  vin: 'JTJM1C0MPTEST0001',
  stage: 1,
  typeApprovalNumber: 'e6*2018/858*00264*01',
  variant: 'XEBM15(W)',
  version: 'XEBM15L-AWDLSW(1B)',
  destination: 'nap-simulator',
  values: {
    DateManufactureVehicle: '2024-04-08',
    ColourTable: { ColourGroup: [{ Colour: '8' }] },
    MassGroup: { ActualMass: 2184 },
  },
};

// zod's own `.meta` (read by zod-to-openapi): this schema may be created before `.openapi` is installed.
export const vehicleRecordBodySchema = vehicleRecordSchema.meta({ id: 'VehicleRecord', example: vehicleRecordExample });

/**
 * Many records in one call. Items are checked one by one against VehicleRecord (not here), so
 * a bad record is reported by its index and never stops the good ones.
 */
export function vehicleBatchSchema(maxRecords: number) {
  return z
    .object({
      records: z
        .array(z.unknown())
        .min(1)
        .max(maxRecords)
        .openapi({ items: { $ref: '#/components/schemas/VehicleRecord' }, description: 'VehicleRecords, each checked on its own' }),
    })
    .strict()
    .openapi('VehicleBatch', { example: { records: [vehicleRecordExample, { ...vehicleRecordExample, vin: 'JTJM1C0MPTEST0002' }] } });
}

export function ingestBodySchema(maxRecords: number) {
  return z.union([vehicleRecordBodySchema, vehicleBatchSchema(maxRecords)]).openapi({ example: vehicleRecordExample });
}

export const ingestResultSchema = z
  .object({
    certificateId: z.string(),
    dataVersion: z.number().int(),
    outcome: z.enum(['created', 'corrected', 'unchanged']),
    status: z.enum(certificateStatuses),
  })
  .openapi('IngestResult');

export const batchItemResultSchema = z.union([
  ingestResultSchema.extend({ index: z.number().int(), ok: z.literal(true) }),
  z.object({ index: z.number().int(), ok: z.literal(false), code: z.string(), message: z.string(), errors: z.array(fieldErrorSchema).optional() }),
]);

export const batchResultSchema = z
  .object({ accepted: z.number().int(), rejected: z.number().int(), results: z.array(batchItemResultSchema) })
  .openapi('IngestBatchResult');

export type BatchItemResult = z.infer<typeof batchItemResultSchema>;

export const vehicleTemplateQuerySchema = z.object({
  manufacturerId: z.string().min(1).openapi({ example: 'demo-motors' }),
  typeApprovalNumber: z.string().min(1).openapi({ example: 'e6*2018/858*00264*01' }),
  variant: z.string().min(1).openapi({ example: 'XEBM15(W)' }),
  version: z.string().min(1).openapi({ example: 'XEBM15L-AWDLSW(1B)' }),
});

export const vehicleTemplateSchema = z
  .object({
    revision: z.object({ id: z.string(), sequence: z.number().int(), extensionNumber: z.string() }),
    /** Mandatory fields the approved values leave empty: each vehicle record must carry them (the VIN always). */
    missing: z.array(z.object({ path: z.string(), message: z.string() })),
    example: z.record(z.string(), z.unknown()).openapi({ description: 'A ready-to-edit VehicleRecord for this variant/version' }),
  })
  .openapi('VehicleTemplate');
