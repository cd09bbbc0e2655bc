import { canSeeManufacturer, vinNotAcceptedMessage, type Principal } from '../../auth/principal.ts';
import { ingestVehicle, type IngestContext } from '../../certificates/ingest.ts';
import { CertificateOwnershipError } from '../../certificates/store.ts';
import { mapWithConcurrency } from '../../platform/concurrency.ts';
import { batchResultSchema, ingestBodySchema, ingestResultSchema, vehicleBatchSchema, vehicleRecordBodySchema, type BatchItemResult } from '../../schemas/api/vehicles.ts';
import { vehicleRecordSchema } from '../../schemas/vehicle-record.ts';
import type { Actor } from '../../schemas/certificate.ts';
import type { RouteModule } from '../context.ts';
import { HttpProblem, RefusalProblem, refusalAnswers, refusalProblem, zodProblem } from '../problem.ts';
import { requestActor } from '../request-context.ts';

/** Records of one batch ingested at the same time (each is a DB transaction + a workflow update). */
const BATCH_CONCURRENCY = 8;

/** A single record's failure as a problem: its code's status (refusals by kind, as everywhere), 409 otherwise. */
const singleStatus: Record<string, number> = {
  invalid_record: 400,
  forbidden_manufacturer: 403,
  vin_not_accepted: 409,
  internal_error: 500,
  ...Object.fromEntries(Object.values(refusalAnswers).map(({ status, code }) => [code, status])),
};

/** `POST /api/v1/vehicles`: one VehicleRecord, or `{ records: [...] }` with a result per record. */
export const vehicleRoutes: RouteModule = (table, { db, client, taskQueue, review, config }) => {
  const ingest: IngestContext = { db, client, taskQueue, review };
  const batchSchema = vehicleBatchSchema(config.ECOC_API_MAX_BATCH);
  table.add({
    method: 'post',
    path: '/api/v1/vehicles',
    operationId: 'ingestVehicles',
    summary: 'Ingest vehicle data (one record or a batch)',
    description:
      'One VehicleRecord answers 201 (new certificate) or 200 (new or unchanged data for an existing one), or a problem. ' +
      '`{ "records": [...] }` answers 200 with one result per record, in order; invalid records are reported by index and do not stop the others.',
    tag: 'vehicles',
    access: 'vehicles.submit',
    body: ingestBodySchema(config.ECOC_API_MAX_BATCH),
    bodyVariant: (raw) => (raw && typeof raw === 'object' && 'records' in raw ? batchSchema : vehicleRecordBodySchema),
    responses: {
      200: { description: 'Batch results (at least one record accepted), or new data for an existing certificate', schema: batchResultSchema.or(ingestResultSchema) },
      422: { description: 'A batch of which no record was accepted: problem JSON with `results` per record (code no_record_accepted)' },
      201: { description: 'A new certificate', schema: ingestResultSchema },
      409: { description: 'The VIN and stage cannot be accepted for this manufacturer (vin_not_accepted; whether or whose they are is not said), or the workflow refused the data (stale_version, not_allowed_in_state)' },
    },
    async handler({ req, res, body, principal }) {
      const actor = requestActor(req);
      if ('records' in body) {
        const results = await mapWithConcurrency(body.records, BATCH_CONCURRENCY, (raw, index) => ingestOne(ingest, principal, actor, raw, index, req.log));
        const accepted = results.filter((result) => result.ok).length;
        const outcome = { accepted, rejected: results.length - accepted, results };
        // Nothing usable in the whole batch is the client's error; any accepted record makes it a 200.
        if (accepted === 0 && results.every((result) => !result.ok && result.code !== 'internal_error')) {
          throw new HttpProblem(422, 'no_record_accepted', `None of the ${results.length} record(s) was accepted; see results`, outcome);
        }
        res.json(outcome);
        return;
      }
      const result = await ingestOne(ingest, principal, actor, body, 0, req.log);
      if (!result.ok) {
        throw new HttpProblem(singleStatus[result.code] ?? 409, result.code, result.message, {
          ...(result.errors ? { errors: result.errors } : {}),
        });
      }
      const { index: _index, ok: _ok, ...single } = result;
      res.status(single.outcome === 'created' ? 201 : 200).json(single);
    },
  });
};

async function ingestOne(
  context: IngestContext,
  principal: Principal,
  actor: Actor,
  raw: unknown,
  index: number,
  log: { error(object: object, message: string): void },
): Promise<BatchItemResult> {
  const parsed = vehicleRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const problem = zodProblem(parsed.error, 'body');
    return { index, ok: false, code: 'invalid_record', message: 'The record is invalid', errors: problem.extra.errors ?? [] };
  }
  const record = parsed.data;
  if (!canSeeManufacturer(principal, record.manufacturerId)) {
    return { index, ok: false, code: 'forbidden_manufacturer', message: `Your credential may not deliver data for manufacturer ${record.manufacturerId}` };
  }
  try {
    const result = await ingestVehicle(context, record, actor, 'api');
    return { index, ok: true, ...result };
  } catch (error) {
    // Another manufacturer's VIN and stage: refused without confirming that it exists, or whose it is.
    if (error instanceof CertificateOwnershipError) return { index, ok: false, code: 'vin_not_accepted', message: vinNotAcceptedMessage(record.vin, record.stage) };
    const refused = refusalProblem(error);
    if (refused instanceof RefusalProblem) return { index, ok: false, code: refused.code, message: refused.message };
    // One record's unexpected failure is reported, logged, and does not lose the others.
    log.error({ err: error, index, vin: record.vin }, 'ingest failed');
    return { index, ok: false, code: 'internal_error', message: `Ingest of VIN ${record.vin} failed; retry it` };
  }
}
