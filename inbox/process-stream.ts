import { createHash } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { RefusedError } from '../auth/permissions.ts';
import { vinNotAcceptedMessage } from '../auth/principal.ts';
import { ingestVehicle, type IngestContext, type IngestResult } from '../certificates/ingest.ts';
import { CertificateOwnershipError } from '../certificates/store.ts';
import { ErpFileError } from '../connectors/erp/errors.ts';
import { ERP_FILE_TYPES, erpFormatOf, parseErpFile, type ErpFormat, type ErpRowResult } from '../connectors/erp/parse.ts';
import { createErpReportBuilder } from '../connectors/erp/report.ts';
import type { ErpMapping } from '../schemas/erp/mapping.ts';
import type { ErpReport } from '../schemas/erp/report.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import type { Actor } from '../schemas/certificate.ts';

export interface ErpStreamOptions {
  ingest: IngestContext;
  mapping: ErpMapping;
  /** The file's name: decides the format (unless `format` is given) and names the report. */
  fileName: string;
  actor: Actor;
  format?: ErpFormat;
  /** The whole file's SHA-256 when known beforehand (the inbox hashes first); otherwise computed. */
  sha256?: string;
  /** Rows ingested at the same time; rows of one vehicle always go in file order. */
  concurrency?: number;
  onProgress?(progress: ErpStreamProgress): void;
}

export interface ErpStreamProgress {
  rowsDone: number;
  accepted: number;
  rejected: number;
}

export interface ErpStreamResult {
  report: ErpReport;
  /** SHA-256 and length of the bytes read; `complete` is false when reading stopped at a file error. */
  read: { sha256: string; bytes: number; complete: boolean };
  /** How accepted rows landed: new certificates, new data versions, data a certificate already had. */
  outcomes: Record<IngestResult['outcome'], number>;
  /** Why the file could not be read to its end (also the report's `fileError`). */
  fileError?: ErpFileError;
}

type Settled = { result: ErpRowResult; outcome?: IngestResult['outcome'] } | { failure: unknown };

/**
 * The one path from an ERP file to certificates, for the SFTP inbox and `ecoc ingest` alike:
 * streams the file through the manufacturer's mapping, ingests every good row (start or correct
 * the certificate workflow; idempotent by data hash), and builds the per-row report. A bad row
 * is a report entry, never the end of the file; a file error ends reading but keeps the rows
 * before it. Infrastructure failures (database, Temporal) are thrown after in-flight rows
 * settle, so a retry re-processes the file and re-ingested rows change nothing.
 */
export async function processErpStream(input: AsyncIterable<Uint8Array | string>, options: ErpStreamOptions): Promise<ErpStreamResult> {
  const hash = createHash('sha256');
  const read = { bytes: 0, complete: false };
  const outcomes: ErpStreamResult['outcomes'] = { created: 0, corrected: 0, unchanged: 0 };
  const progress: ErpStreamProgress = { rowsDone: 0, accepted: 0, rejected: 0 };
  const format = options.format ?? erpFormatOf(options.fileName);
  const concurrency = Math.max(1, options.concurrency ?? 4);

  let fileError: ErpFileError | undefined;
  const rows: ErpRowResult[] = [];
  const pending: Promise<Settled>[] = [];
  const lastOfVehicle = new Map<string, Promise<unknown>>();

  const ingestRow = async (row: number, record: VehicleRecord): Promise<Settled> => {
    try {
      const ingested = await ingestVehicle(options.ingest, record, options.actor, 'erp');
      return { result: { row, record }, outcome: ingested.outcome };
    } catch (error) {
      const refusal = refusalOf(error, record);
      if (refusal) return { result: { row, vin: record.vin, errors: [{ column: '*', value: record.vin, ...refusal }] } };
      return { failure: error };
    }
  };
  const settleOldest = async () => {
    const settled = await pending.shift()!;
    if ('failure' in settled) {
      await Promise.all(pending.splice(0));
      throw settled.failure;
    }
    rows.push(settled.result);
    if (settled.outcome) outcomes[settled.outcome] += 1;
    progress.rowsDone += 1;
    if ('record' in settled.result) progress.accepted += 1;
    else progress.rejected += 1;
    options.onProgress?.({ ...progress });
  };

  if (format === undefined) {
    fileError = new ErpFileError(`${options.fileName}: unknown file type; the inbox reads ${ERP_FILE_TYPES}`, 'unsupported_format');
  } else {
    try {
      for await (const result of parseErpFile(hashing(input, hash, read), options.mapping, format)) {
        if ('record' in result) {
          // Rows of one vehicle wait for each other: the later row is the newer data.
          const vehicle = `${result.record.vin}/${result.record.stage}`;
          const settled = (lastOfVehicle.get(vehicle) ?? Promise.resolve()).then(() => ingestRow(result.row, result.record));
          lastOfVehicle.set(vehicle, settled);
          void settled.then(() => {
            if (lastOfVehicle.get(vehicle) === settled) lastOfVehicle.delete(vehicle);
          });
          pending.push(settled);
        } else pending.push(Promise.resolve({ result }));
        while (pending.length >= concurrency) await settleOldest();
      }
    } catch (error) {
      if (!(error instanceof ErpFileError)) {
        await Promise.all(pending.splice(0));
        throw error;
      }
      fileError = error;
    }
    while (pending.length > 0) await settleOldest();
  }

  const sha256 = hash.digest('hex');
  const builder = createErpReportBuilder({ name: options.fileName, sha256: options.sha256 ?? (format === undefined ? '' : sha256), manufacturerId: options.mapping.manufacturerId });
  for (const row of rows) builder.add(row);
  if (fileError) builder.fail(fileError);
  return { report: builder.finish(), read: { sha256, ...read }, outcomes, ...(fileError ? { fileError } : {}) };
}

/** Business refusals of one row (another manufacturer's VIN, a withdrawn certificate); anything else is infrastructure. */
function refusalOf(error: unknown, record: VehicleRecord): { rule: string; message: string } | undefined {
  // Never confirmed to the file's sender (the report goes back to the manufacturer): nor whose it is.
  if (error instanceof CertificateOwnershipError) return { rule: 'vin_not_accepted', message: vinNotAcceptedMessage(record.vin, record.stage) };
  if (error instanceof WorkflowUpdateFailedError) return { rule: 'refused', message: `the certificate refused the data: ${error.cause?.message ?? error.message}` };
  if (error instanceof RefusedError) return { rule: 'refused', message: error.message };
  return undefined;
}

async function* hashing(input: AsyncIterable<Uint8Array | string>, hash: ReturnType<typeof createHash>, read: { bytes: number; complete: boolean }): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    hash.update(bytes);
    read.bytes += bytes.byteLength;
    yield bytes;
  }
  read.complete = true;
}
