import { createHash } from 'node:crypto';
import type { Prisma } from '../.generated/prisma/client.ts';
import type { IngestContext } from '../certificates/ingest.ts';
import { PermanentConnectorError } from '../connectors/delivery/errors.ts';
import { ErpFileError } from '../connectors/erp/errors.ts';
import { ERP_FILE_TYPES, erpFormatOf } from '../connectors/erp/parse.ts';
import { createErpReportBuilder, reportFileName } from '../connectors/erp/report.ts';
import type { SftpSession } from '../connectors/sftp/client.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { ErpMapping } from '../schemas/erp/mapping.ts';
import type { ErpReport } from '../schemas/erp/report.ts';
import type { Actor } from '../schemas/certificate.ts';
import type { InboxFileOutcome, InboxFileProgress, InboxFileRef } from '../workflows/inbox/types.ts';
import { mappingFor } from './mappings.ts';
import { processErpStream } from './process-stream.ts';

/**
 * The SFTP inbox: `<remoteDir>/<manufacturerId>/` holds new files; each is taken once, by name
 * and SHA-256, and moved to `processed/` or `rejected/` in the same directory with
 * `<file>.report.json` beside it. Files still being uploaded must not be visible under their
 * final name: uploaders write `*.part`/`*.tmp`/`*.filepart` (or dot files) and rename, which
 * the listing skips.
 */

const IN_PROGRESS = /(^\.)|(\.(part|tmp|filepart)$)/i;

export interface InboxContext {
  db: Database;
  session: SftpSession;
  mappings: Map<string, ErpMapping>;
  ingest: IngestContext;
  /** Who the inbox ingests as (an integrator identity). */
  actor: Actor;
  logger: Logger;
  onProgress?(progress: InboxFileProgress): void;
}

/** New files of every mapped manufacturer, oldest first; creates the directories on first use. */
export async function listInboxFiles(session: SftpSession, manufacturerIds: Iterable<string>): Promise<InboxFileRef[]> {
  const files: (InboxFileRef & { modifiedAt: number })[] = [];
  for (const manufacturerId of manufacturerIds) {
    for (const dir of [manufacturerId, `${manufacturerId}/processed`, `${manufacturerId}/rejected`]) await session.ensureDir(dir);
    for (const entry of await session.list(manufacturerId)) {
      if (entry.type !== 'file' || IN_PROGRESS.test(entry.name)) continue;
      files.push({ manufacturerId, name: entry.name, size: entry.size, modifiedAt: entry.modifiedAt.getTime() });
    }
  }
  files.sort((a, b) => a.modifiedAt - b.modifiedAt || a.name.localeCompare(b.name));
  return files.map(({ manufacturerId, name, size }) => ({ manufacturerId, name, size }));
}

/**
 * Takes one inbox file through to `processed/` or `rejected/`. Crash-safe in steps recorded in
 * `erp_inbox_file`: `processing` (a retry reads the file again; re-ingested rows are no-ops, so
 * the report is rebuilt complete), `finishing` (report and target stored; a retry only moves),
 * then `processed`/`rejected`. The same name and content arriving again is a duplicate.
 */
export async function processInboxFile(context: InboxContext, file: InboxFileRef): Promise<InboxFileOutcome> {
  const { db, session } = context;
  const mapping = mappingFor(context.mappings, file.manufacturerId);
  const path = `${file.manufacturerId}/${file.name}`;
  const logger = context.logger.child({ manufacturerId: file.manufacturerId, file: file.name });
  const progress = (update: Pick<InboxFileProgress, 'phase' | 'bytesHashed' | 'rowsDone'>) => context.onProgress?.({ manufacturerId: file.manufacturerId, name: file.name, ...update });

  // Refused unread: a type the parser does not know, or more bytes than the manufacturer allows.
  const unread =
    erpFormatOf(file.name) === undefined
      ? new ErpFileError(`${file.name}: unknown file type; the inbox reads ${ERP_FILE_TYPES}`, 'unsupported_format')
      : file.size > mapping.limits.maxFileBytes
        ? new ErpFileError(`file is ${file.size} bytes, above the limit of ${mapping.limits.maxFileBytes} bytes (limits.maxFileBytes for ${file.manufacturerId}); not read`, 'file_too_large')
        : undefined;
  if (unread) {
    const target = await freeName(session, `${file.manufacturerId}/rejected`, file.name, timestamp());
    const report = fileReport(file, mapping, '', unread);
    await place(session, path, `${file.manufacturerId}/rejected/${target}`, report);
    logger.warn({ rule: unread.rule, movedTo: `rejected/${target}` }, unread.message);
    return outcome(file, 'rejected', `rejected/${target}`, report);
  }

  const sha256 = await hashRemote(session, path, (bytesHashed) => progress({ phase: 'hashing', bytesHashed, rowsDone: 0 }));
  let taken = await claim(db, file, sha256);
  if (taken.status === 'processed' || taken.status === 'rejected') {
    const duplicate = new ErpFileError(
      `same name and content (SHA-256 ${sha256}) as the file taken on ${(taken.finishedAt ?? taken.firstSeenAt).toISOString()} and moved to ${taken.target}; not ingested again`,
      'duplicate',
    );
    const target = await freeName(session, `${file.manufacturerId}/rejected`, file.name, timestamp());
    const report = fileReport(file, mapping, sha256, duplicate);
    await place(session, path, `${file.manufacturerId}/rejected/${target}`, report);
    logger.info({ sha256, original: taken.target, movedTo: `rejected/${target}` }, 'duplicate delivery');
    return outcome(file, 'duplicate', `rejected/${target}`, report);
  }

  if (taken.status === 'processing') {
    const result = await processErpStream(session.readStream(path), {
      ingest: context.ingest,
      mapping,
      fileName: file.name,
      actor: context.actor,
      sha256,
      onProgress: ({ rowsDone }) => progress({ phase: 'ingesting', bytesHashed: file.size, rowsDone }),
    });
    if (result.read.complete && result.read.sha256 !== sha256) {
      // Overwritten in place while we read: read it again (rows already ingested are no-ops).
      throw new Error(`${path} changed while it was being read (SHA-256 ${sha256} before, ${result.read.sha256} after); it will be read again`);
    }
    const disposition = result.fileError ? 'rejected' : 'processed';
    const target = `${disposition}/${await freeName(session, `${file.manufacturerId}/${disposition}`, file.name, sha256.slice(0, 12))}`;
    const { totals } = result.report;
    taken = await db.erpInboxFile.update({
      where: { id: taken.id },
      data: { status: 'finishing', target, report: result.report as unknown as Prisma.InputJsonValue, rows: totals.rows, accepted: totals.accepted, rejected: totals.rejected },
    });
    logger.info({ ...totals, outcomes: result.outcomes, fileError: result.fileError?.rule, target }, 'file read');
  }

  const report = taken.report as unknown as ErpReport;
  const target = taken.target!;
  await place(session, path, `${file.manufacturerId}/${target}`, report);
  const disposition = target.startsWith('rejected/') ? 'rejected' : 'processed';
  await db.erpInboxFile.update({ where: { id: taken.id }, data: { status: disposition, finishedAt: new Date() } });
  return outcome(file, disposition, target, report);
}

/** The row for this name + content, created as `processing` when new; a retry counts an attempt. */
async function claim(db: Database, file: InboxFileRef, sha256: string) {
  const key = { manufacturerId_fileName_sha256: { manufacturerId: file.manufacturerId, fileName: file.name, sha256 } };
  const existing = await db.erpInboxFile.findUnique({ where: key });
  if (!existing) {
    return db.erpInboxFile.create({ data: { manufacturerId: file.manufacturerId, fileName: file.name, sha256, size: BigInt(file.size), status: 'processing', attempts: 1 } });
  }
  if (existing.status !== 'processing') return existing;
  return db.erpInboxFile.update({ where: { id: existing.id }, data: { attempts: { increment: 1 } } });
}

async function hashRemote(session: SftpSession, path: string, onBytes: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of session.readStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    onBytes(bytes);
  }
  return hash.digest('hex');
}

/** Report first, then the file: a retry after a crash in between finds the file still to move. */
async function place(session: SftpSession, from: string, to: string, report: ErpReport): Promise<void> {
  await session.uploadAtomic(reportFileName(to), Buffer.from(`${JSON.stringify(report, null, 2)}\n`));
  if (await session.exists(from)) await session.move(from, to);
  else if (!(await session.exists(to))) throw new PermanentConnectorError(`${from} disappeared before it could be moved to ${to}`, 'NOT_FOUND');
}

/** `name`, or `stem.<suffix>.ext` (then `-2`, `-3`, …) when an earlier file of that name is there. */
async function freeName(session: SftpSession, dir: string, name: string, suffix: string): Promise<string> {
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let attempt = 0; ; attempt += 1) {
    const candidate = attempt === 0 ? name : `${stem}.${suffix}${attempt > 1 ? `-${attempt}` : ''}${extension}`;
    if (!(await session.exists(`${dir}/${candidate}`)) && !(await session.exists(`${dir}/${reportFileName(candidate)}`))) return candidate;
  }
}

function fileReport(file: InboxFileRef, mapping: ErpMapping, sha256: string, error: ErpFileError): ErpReport {
  const builder = createErpReportBuilder({ name: file.name, sha256, manufacturerId: mapping.manufacturerId });
  builder.fail(error);
  return builder.finish();
}

function outcome(file: InboxFileRef, disposition: InboxFileOutcome['disposition'], target: string, report: ErpReport): InboxFileOutcome {
  return {
    manufacturerId: file.manufacturerId,
    name: file.name,
    disposition,
    movedTo: `${file.manufacturerId}/${target}`,
    sha256: report.sha256,
    rows: report.totals.rows,
    accepted: report.totals.accepted,
    rejected: report.totals.rejected,
    ...(report.fileError ? { fileError: { rule: report.fileError.rule, message: report.fileError.message } } : {}),
  };
}

const timestamp = () => new Date().toISOString().replace(/[-:.]/g, '');
