import { Prisma } from '../../.generated/prisma/client.ts';
import { verifyAuditTrail } from '../../audit/trail.ts';
import type { RecordRow } from '../../audit/verify.ts';
import type { Request } from 'express';
import type { z } from '../../schemas/api/openapi-zod.ts';
import { seesAllManufacturers, type Principal } from '../../auth/principal.ts';
import type { Database } from '../../platform/database/prisma.ts';
import { auditExportQuerySchema, auditVerificationSchema, type AuditRecordView } from '../../schemas/api/audit.ts';
import { auditExportColumns } from '../../schemas/api/exports.ts';
import type { RouteModule } from '../context.ts';
import { streamCsv } from '../csv.ts';
import { forbidden } from '../problem.ts';
import { auditApiAction } from '../request-context.ts';
import { visibleCertificate } from './certificates/access.ts';

const EXPORT_PAGE = 1_000;

type AuditRowRaw = Omit<RecordRow, 'mac' | 'mac_key'>;

/** The audit trail: NDJSON and CSV export (scoped to the caller's manufacturers) and verification of chains, checkpoints and witness. */
export const auditRoutes: RouteModule = (table, { db, config, client }) => {
  table.add({
    method: 'get',
    path: '/api/v1/audit/export',
    operationId: 'exportAudit',
    summary: 'Export audit records as NDJSON (one AuditRecord per line, in write order)',
    description:
      'Streams every matching record. Callers scoped to some manufacturers get their certificates’ records only; records without a certificate (API keys, exports) need the all-manufacturers scope. A `certificateId` outside the caller’s manufacturers (or unknown) is 404, like every other certificate route.',
    tag: 'audit',
    access: 'audit.view',
    query: auditExportQuerySchema,
    streaming: true,
    responses: { 200: { description: 'NDJSON stream', contentType: 'application/x-ndjson' }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ req, res, query, principal }) {
      const rows = await scopedExport(db, req, query, principal, 'ndjson');
      res.status(200).type('application/x-ndjson');
      let aborted = false;
      req.on('close', () => (aborted = !res.writableFinished));
      for await (const page of rows) {
        if (aborted) break;
        // Respect back-pressure: a slow client slows the export, not the server's memory.
        if (!res.write(`${page.map((row) => JSON.stringify(row)).join('\n')}\n`)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/audit/export.csv',
    operationId: 'exportAuditCsv',
    summary: 'Export audit records as CSV (one AuditRecord per line, detail as JSON, in write order)',
    description:
      'The NDJSON export’s records and scope as CSV for compliance reporting. Cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR, e.g. an actor name) are prefixed with `\'`.',
    tag: 'audit',
    access: 'audit.view',
    query: auditExportQuerySchema,
    streaming: true,
    responses: { 200: { description: 'CSV with a header line', contentType: 'text/csv' }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ req, res, query, principal }) {
      const pages = await scopedExport(db, req, query, principal, 'csv');
      await streamCsv(req, res, { fileName: 'audit.csv', columns: auditExportColumns, pages, row: (record) => record });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/audit/verify',
    operationId: 'verifyAudit',
    summary: 'Verify every audit chain, the MACs, the signed checkpoints and the witness; report what does not fit',
    description:
      'Recomputes every record’s hash, link and MAC chain by chain, every checkpoint’s Merkle root and seal signature, and compares the checkpoints with the witness workflow (and the witness file on this host). `ok` is false at any problem; `firstInvalid` names the first (chain, seq, record id or checkpoint, kind, message).',
    tag: 'audit',
    access: 'audit.view',
    streaming: true,
    responses: { 200: { description: 'Verification result (ok, or the problems found)', schema: auditVerificationSchema } },
    async handler({ res, principal }) {
      if (!seesAllManufacturers(principal)) throw forbidden('Verifying the whole trail needs a credential scoped to all manufacturers (*)');
      res.json(await verifyAuditTrail({ db, config, client }));
    },
  });
};

/**
 * The export's records in pages (write order), within the caller's scope. Scope first: the export is
 * recorded in the trail of a certificate the caller may see, never another manufacturer's.
 */
async function scopedExport(db: Database, req: Request, query: z.infer<typeof auditExportQuerySchema>, principal: Principal, format: 'ndjson' | 'csv'): Promise<AsyncIterable<AuditRecordView[]>> {
  const all = seesAllManufacturers(principal);
  const certificate = query.certificateId === undefined ? undefined : await visibleCertificate(db, principal, query.certificateId);
  const filter = { ...(query.from ? { from: query.from } : {}), ...(query.to ? { to: query.to } : {}), ...(certificate ? { certificateId: certificate.id } : {}) };
  await auditApiAction(db, req, 'audit_export', certificate?.id ?? null, { filter, format });
  return (async function* () {
    let after = 0n;
    for (;;) {
      const rows = await db.$queryRaw<AuditRowRaw[]>`
        SELECT a.id, a.chain, a.seq, a.occurred_at, a.recorded_at, a.actor, a.action, a.certificate_id, a.entry_key, a.detail, a.prev_hash, a.hash
        FROM audit_record a LEFT JOIN certificate c ON c.id = a.certificate_id
        WHERE a.id > ${after}
          ${all ? Prisma.empty : Prisma.sql`AND c.manufacturer_id = ANY(${principal.manufacturers})`}
          ${query.from ? Prisma.sql`AND a.occurred_at >= ${new Date(query.from)}` : Prisma.empty}
          ${query.to ? Prisma.sql`AND a.occurred_at < ${new Date(query.to)}` : Prisma.empty}
          ${certificate ? Prisma.sql`AND a.certificate_id = ${certificate.id}` : Prisma.empty}
        ORDER BY a.id LIMIT ${EXPORT_PAGE}`;
      if (rows.length === 0) return;
      yield rows.map((row) =>
        auditView({
          id: row.id,
          chain: row.chain,
          seq: row.seq,
          occurredAt: row.occurred_at,
          recordedAt: row.recorded_at,
          actor: row.actor,
          action: row.action,
          certificateId: row.certificate_id,
          entryKey: row.entry_key,
          detail: row.detail as Prisma.JsonValue,
          prevHash: row.prev_hash,
          hash: row.hash,
        }),
      );
      after = rows.at(-1)!.id;
    }
  })();
}

type AuditRow = Pick<Awaited<ReturnType<Database['auditRecord']['findMany']>>[number], 'id' | 'chain' | 'seq' | 'occurredAt' | 'recordedAt' | 'actor' | 'action' | 'certificateId' | 'entryKey' | 'detail' | 'prevHash' | 'hash'>;

export function auditView(row: AuditRow): AuditRecordView {
  return {
    id: row.id.toString(),
    chain: row.chain,
    seq: row.seq,
    occurredAt: row.occurredAt.toISOString(),
    recordedAt: row.recordedAt?.toISOString() ?? null,
    actor: row.actor,
    action: row.action,
    certificateId: row.certificateId,
    entryKey: row.entryKey,
    detail: row.detail as Record<string, unknown>,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
