import { vehicleRecordSchema } from '../vehicle-record.ts';
import { certificateStatuses } from '../certificate.ts';
import { fieldErrorSchema } from './common.ts';
import { z } from './openapi-zod.ts';

// zod's own `.meta` (read by zod-to-openapi): this schema may be created before `.openapi` is installed.
export const vehicleRecordBodySchema = vehicleRecordSchema.meta({ id: 'VehicleRecord' });

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
    .openapi('VehicleBatch');
}

export function ingestBodySchema(maxRecords: number) {
  return z.union([vehicleRecordBodySchema, vehicleBatchSchema(maxRecords)]);
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
