import type { Response } from 'express';
import { canSeeManufacturer, vinNotAcceptedMessage, type Principal } from '../../auth/principal.ts';
import { ingestVehicle, type IngestContext } from '../../certificates/ingest.ts';
import { configuredDestinationIds } from '../../connectors/delivery/destinations.ts';
import { composeCertificateData } from '../../ivi/compose.ts';
import { CertificateOwnershipError } from '../../certificates/store.ts';
import { mandatoryRules } from '../../ivi/rules/mandatory.ts';
import { createTypeApprovalRepository } from '../../ivi/type-approvals/repository.ts';
import {
  batchResultSchema,
  ingestBodySchema,
  ingestResultSchema,
  vehicleBatchSchema,
  vehicleRecordBodySchema,
  vehicleTemplateQuerySchema,
  vehicleTemplateSchema,
  type BatchItemResult,
} from '../../schemas/api/vehicles.ts';
import { vehicleRecordSchema } from '../../schemas/vehicle-record.ts';
import type { Actor } from '../../schemas/certificate.ts';
import type { RouteModule } from '../context.ts';
import { ownDeadline } from '../middleware/timeout.ts';
import { HttpProblem, isOutageCode, notFound, outageOf, outageProblem, outages, RefusalProblem, refusalAnswers, refusalProblem, zodProblem } from '../problem.ts';
import { requestActor } from '../request-context.ts';

/** Records of one batch ingested at the same time (each is a DB transaction + a workflow update). */
const BATCH_CONCURRENCY = 8;

/** Per-record codes of a batch that ran out of time (retry those records; ingest is idempotent). */
const NOT_PROCESSED = 'not_processed';
const OUTCOME_UNKNOWN = 'outcome_unknown';
const unfinished = (result: BatchItemResult): boolean => !result.ok && (result.code === NOT_PROCESSED || result.code === OUTCOME_UNKNOWN);

/** A single record's failure as a problem: its code's status (refusals by kind, as everywhere), 409 otherwise. */
const singleStatus: Record<string, number> = {
  invalid_record: 400,
  forbidden_manufacturer: 403,
  vin_not_accepted: 409,
  internal_error: 500,
  ...Object.fromEntries(Object.values(refusalAnswers).map(({ status, code }) => [code, status])),
};

/** `POST /api/v1/vehicles`: one VehicleRecord, or `{ records: [...] }` with a result per record; `GET …/template`: what a record must carry. */
export const vehicleRoutes: RouteModule = (table, { db, client, taskQueue, review, config }) => {
  const batchSchema = vehicleBatchSchema(config.ECOC_API_MAX_BATCH);
  table.add({
    method: 'get',
    path: '/api/v1/vehicles/template',
    operationId: 'vehicleTemplate',
    summary: 'The fields a vehicle record must still carry for an approved variant/version, and an example record',
    description:
      'Runs the mandatory IVI rules over the published approved values of the variant/version (as ingest composes them): what they report missing must come with each vehicle. ' +
      'The VIN always does (the record’s `vin`). Needs vehicles.submit: it is the submitter’s tool and shows nothing a submitter may not send.',
    tag: 'vehicles',
    access: 'vehicles.submit',
    query: vehicleTemplateQuerySchema,
    responses: {
      200: { description: 'Missing mandatory fields and a ready-to-edit VehicleRecord', schema: vehicleTemplateSchema },
      404: { description: 'No published approval, variant or version with these keys among your manufacturers' },
    },
    async handler({ res, query, principal }) {
      const key = { manufacturerId: query.manufacturerId, number: query.typeApprovalNumber, variant: query.variant, version: query.version };
      const approved = canSeeManufacturer(principal, key.manufacturerId) ? await createTypeApprovalRepository(db).findVersionValues(key) : null;
      if (!approved) throw notFound(`Type approval ${key.number} variant ${key.variant} version ${key.version} of ${key.manufacturerId}`);
      const cocDataGroup = composeCertificateData({ typeApprovalValues: approved.values, vehicleValues: [] }).values;
      const missing = mandatoryRules.flatMap((rule) => rule.check({ cocDataGroup }, { now: new Date() }));
      const destinations = await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE);
      const destination = destinations.includes('nap-simulator') ? 'nap-simulator' : destinations[0];
      res.json({
        revision: approved.revision,
        missing,
        example: { manufacturerId: key.manufacturerId, vin: 'WVWZZZ1JZXW000001', stage: 1, typeApprovalNumber: key.number, variant: key.variant, version: key.version, ...(destination ? { destination } : {}) },
      });
    },
  });
  table.add({
    method: 'post',
    path: '/api/v1/vehicles',
    operationId: 'ingestVehicles',
    summary: 'Ingest vehicle data (one record or a batch)',
    description:
      'One VehicleRecord answers 201 (new certificate) or 200 (new or unchanged data for an existing one), or a problem. ' +
      '`{ "records": [...] }` answers 200 with one result per record, in order; invalid records are reported by index and do not stop the others. ' +
      'The answer comes within ECOC_API_REQUEST_TIMEOUT and says what was stored: records the time did not allow are `not_processed` (nothing stored) ' +
      'or `outcome_unknown` (still running); send those again, ingest is idempotent per record.',
    tag: 'vehicles',
    access: 'vehicles.submit',
    body: ingestBodySchema(config.ECOC_API_MAX_BATCH),
    bodyVariant: (raw) => (raw && typeof raw === 'object' && 'records' in raw ? batchSchema : vehicleRecordBodySchema),
    responses: {
      200: { description: 'Batch results (at least one record accepted), or new data for an existing certificate', schema: batchResultSchema.or(ingestResultSchema) },
      422: { description: 'A batch of which no record was accepted: problem JSON with `results` per record (code no_record_accepted)' },
      201: { description: 'A new certificate', schema: ingestResultSchema },
      409: { description: 'The VIN and stage cannot be accepted for this manufacturer (vin_not_accepted; whether or whose they are is not said), or the workflow refused the data (stale_version, not_allowed_in_state)' },
      503: {
        description:
          'No record was accepted because the request’s time ran out (request_timeout) or Temporal or the database is away (temporal_unavailable, database_unavailable): ' +
          'with Retry-After, and `results` for a batch; send again, ingest is idempotent',
      },
    },
    async handler({ req, res, body, principal }) {
      const actor = requestActor(req);
      const ingest: IngestContext = { db, client, taskQueue, review, destinations: await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE) };
      const records = 'records' in body ? body.records : [body];
      const results = await ingestInTime(res, records, (raw, index) => ingestOne(ingest, principal, actor, raw, index, req.log), req.log);
      if ('records' in body) {
        const accepted = results.filter((result) => result.ok).length;
        const outcome = { accepted, rejected: results.length - accepted, results };
        // A dependency away (Temporal restarting) is a 503 as on every route, with the per-record results.
        const outage = results.map((result) => (!result.ok && isOutageCode(result.code) ? result.code : undefined)).find((code) => code !== undefined);
        if (accepted === 0 && outage) throw outageProblem(res, outage, `None of the ${results.length} record(s) was accepted: ${outages[outage].title}`, outcome);
        if (accepted === 0 && results.some(unfinished)) {
          res.setHeader('Retry-After', '1');
          throw new HttpProblem(503, 'request_timeout', `None of the ${results.length} record(s) was accepted before the request's time ran out; send them again`, outcome);
        }
        // Nothing usable in the whole batch is the client's error; any accepted record makes it a 200.
        if (accepted === 0 && results.every((result) => !result.ok && result.code !== 'internal_error')) {
          throw new HttpProblem(422, 'no_record_accepted', `None of the ${results.length} record(s) was accepted; see results`, outcome);
        }
        res.json(outcome);
        return;
      }
      const result = results[0]!;
      if (!result.ok) {
        if (isOutageCode(result.code)) throw outageProblem(res, result.code, result.message);
        if (unfinished(result)) {
          res.setHeader('Retry-After', '1');
          throw new HttpProblem(503, 'request_timeout', result.message);
        }
        throw new HttpProblem(singleStatus[result.code] ?? 409, result.code, result.message, {
          ...(result.errors ? { errors: result.errors } : {}),
        });
      }
      const { index: _index, ok: _ok, ...single } = result;
      res.status(single.outcome === 'created' ? 201 : 200).json(single);
    },
  });
};

/**
 * Ingests the records (BATCH_CONCURRENCY at a time, results in order) and answers within the
 * request timeout, consistently with what was stored: the handler takes the deadline over from
 * the timeout middleware (so no 503 can precede its answer), starts no record in the last
 * quarter of the timeout (at most 5 s), and returns shortly before the deadline. A record not
 * started is `not_processed` (nothing stored); one still running then is `outcome_unknown` (it
 * completes in the background and is logged). Either is safe to send again: ingest is
 * idempotent per record (the same data is `unchanged`).
 */
async function ingestInTime(
  res: Response,
  records: readonly unknown[],
  ingestRecord: (raw: unknown, index: number) => Promise<BatchItemResult>,
  log: { info(object: object, message: string): void },
): Promise<BatchItemResult[]> {
  const deadline = ownDeadline(res);
  const startBy = deadline ? deadline.at - Math.min(5_000, deadline.ms / 4) : Infinity;
  const answerBy = deadline ? deadline.at - Math.min(1_000, deadline.ms / 20) : Infinity;
  const results: (BatchItemResult | undefined)[] = new Array(records.length);
  let next = 0;
  let answered = false;
  const lane = async () => {
    while (next < records.length && Date.now() < startBy) {
      const index = next++;
      const result = await ingestRecord(records[index], index);
      if (answered) log.info({ index, ok: result.ok, ...(result.ok ? { certificateId: result.certificateId, outcome: result.outcome } : { code: result.code }) }, 'ingest completed after the answer');
      else results[index] = result;
    }
  };
  const lanes = Promise.all(Array.from({ length: Math.max(1, Math.min(BATCH_CONCURRENCY, records.length)) }, lane));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([lanes, ...(answerBy < Infinity ? [new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, answerBy - Date.now()))))] : [])]);
  clearTimeout(timer);
  answered = true;
  return records.map((_raw, index): BatchItemResult => {
    const result = results[index];
    if (result) return result;
    return index < next
      ? { index, ok: false, code: OUTCOME_UNKNOWN, message: 'Still being ingested when the request’s time ran out; its outcome is unknown: send it again (ingest is idempotent)' }
      : { index, ok: false, code: NOT_PROCESSED, message: 'Not ingested: the request’s time ran out before this record was started; send it again' };
  });
}

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
    const errors = zodProblem(parsed.error, 'body').extra.errors ?? [];
    const first = errors[0];
    return { index, ok: false, code: 'invalid_record', message: `The record is invalid${first ? `: ${first.path}: ${first.message}` : ''}`, errors };
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
    // Temporal or the database away: the record is to be sent again once it is back.
    const outage = outageOf(error);
    if (outage) return { index, ok: false, code: outage, message: `${outages[outage].title}: VIN ${record.vin} was not accepted; send it again` };
    // One record's unexpected failure is reported, logged, and does not lose the others.
    log.error({ err: error, index, vin: record.vin }, 'ingest failed');
    return { index, ok: false, code: 'internal_error', message: `Ingest of VIN ${record.vin} failed; retry it` };
  }
}
