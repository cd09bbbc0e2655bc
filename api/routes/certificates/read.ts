import type { Prisma } from '../../../.generated/prisma/client.ts';
import { seesAllManufacturers, type Principal } from '../../../auth/principal.ts';
import { loadCertificateData } from '../../../certificates/certificate-data.ts';
import {
  certificateDetailSchema,
  certificateListQuerySchema,
  certificatePageSchema,
  certificateStatusQuerySchema,
  certificateStatusViewSchema,
  messageQuerySchema,
  type findingSchema,
} from '../../../schemas/api/certificates.ts';
import { certificateParamsSchema } from '../../../schemas/api/common.ts';
import { certificateExportColumns, certificateExportQuerySchema, type CertificateExportQuery } from '../../../schemas/api/exports.ts';
import type { z } from '../../../schemas/api/openapi-zod.ts';
import type { CertificateState } from '../../../schemas/certificate.ts';
import { statusQuery } from '../../../workflows/certificate/definitions.ts';
import type { RouteModule } from '../../context.ts';
import { streamCsv } from '../../csv.ts';
import { notFound, refusalProblem } from '../../problem.ts';
import { auditApiAction } from '../../request-context.ts';
import { queueFilter } from '../console.ts';
import { visibleCertificate } from './access.ts';
import { certificateView, summary } from './view.ts';

const EXPORT_PAGE = 1_000;

/** The list's filters (and a console work queue) on the status projection, within the caller's manufacturers: list and CSV export. */
function certificateFilter(query: CertificateExportQuery, principal: Principal): Prisma.CertificateWhereInput {
  return {
    AND: [
      seesAllManufacturers(principal) ? {} : { manufacturerId: { in: principal.manufacturers } },
      query.queue ? queueFilter(query.queue, principal) : {},
      query.manufacturerId ? { manufacturerId: query.manufacturerId } : {},
      query.status ? { status: { in: query.status } } : {},
      query.vin ? { vin: query.vin } : {},
      query.typeApprovalNumber ? { typeApprovalNumber: query.typeApprovalNumber } : {},
      query.destination ? { destination: query.destination } : {},
      query.owner ? { owner: query.owner } : {},
      query.batchId ? { batchId: query.batchId } : {},
    ],
  };
}

/** Reading certificates: lists from the projection table, details from the live workflow + the database. */
export const certificateReadRoutes: RouteModule = (table, { db, client }) => {
  const liveState = async (certificateId: string): Promise<CertificateState> => {
    try {
      return await client.workflow.getHandle(certificateId).query(statusQuery);
    } catch (error) {
      throw refusalProblem(error, certificateId);
    }
  };

  table.add({
    method: 'get',
    path: '/api/v1/certificates',
    operationId: 'listCertificates',
    summary: 'List certificates',
    description: 'Filters combine with AND; pages are ordered by id (keyset pagination: pass nextCursor as `after`). Only the caller’s manufacturers are listed.',
    tag: 'certificates',
    access: 'authenticated',
    query: certificateListQuerySchema,
    responses: { 200: { description: 'One page', schema: certificatePageSchema } },
    async handler({ res, query, principal }) {
      const where: Prisma.CertificateWhereInput = { AND: [certificateFilter(query, principal), query.after ? { id: { gt: query.after } } : {}] };
      const rows = await db.certificate.findMany({ where, orderBy: { id: 'asc' }, take: query.limit + 1 });
      const page = rows.slice(0, query.limit);
      res.json(certificatePageSchema.parse({ items: page.map(summary), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null }));
    },
  });

  // Before `/:certificateId`, which would otherwise take `export.csv` for an id.
  table.add({
    method: 'get',
    path: '/api/v1/certificates/export.csv',
    operationId: 'exportCertificatesCsv',
    summary: 'Export the certificates matching the list’s filters (or a console work queue) as CSV',
    description:
      'Every match, ordered by id, streamed; the columns are the list’s summary fields. Only the caller’s manufacturers are exported. Cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) are prefixed with `\'`. The export is recorded in the audit trail.',
    tag: 'certificates',
    access: 'certificates.view',
    query: certificateExportQuerySchema,
    streaming: true,
    responses: { 200: { description: 'CSV with a header line', contentType: 'text/csv' } },
    async handler({ req, res, query, principal }) {
      const filter = certificateFilter(query, principal);
      await auditApiAction(db, req, 'certificates_export', null, { filter: query });
      async function* pages() {
        let after: string | undefined;
        for (;;) {
          const rows = await db.certificate.findMany({ where: { AND: [filter, after ? { id: { gt: after } } : {}] }, orderBy: { id: 'asc' }, take: EXPORT_PAGE });
          if (rows.length === 0) return;
          yield rows;
          after = rows.at(-1)!.id;
        }
      }
      await streamCsv(req, res, { fileName: 'certificates.csv', columns: certificateExportColumns, pages: pages(), row: summary });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId',
    operationId: 'getCertificate',
    summary: 'One certificate: live state, composed data with provenance, findings, messages and history',
    tag: 'certificates',
    access: 'authenticated',
    params: certificateParamsSchema,
    responses: { 200: { description: 'The certificate', schema: certificateDetailSchema }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ res, params, principal }) {
      const row = await visibleCertificate(db, principal, params.certificateId);
      const state = certificateView(await liveState(row.id));
      const [data, version, messages] = await Promise.all([
        loadCertificateData(db, row.id, state.dataVersion),
        db.certificateDataVersion.findUnique({ where: { certificateId_version: { certificateId: row.id, version: state.dataVersion } }, select: { findings: true, ruleSetVersion: true } }),
        db.certificateMessage.findMany({
          where: { certificateId: row.id },
          orderBy: { createdAt: 'asc' },
          select: { iviReferenceId: true, messageVersion: true, dataVersion: true, signedAt: true, createdAt: true },
        }),
      ]);
      const detail: z.input<typeof certificateDetailSchema> = {
        certificate: summary(row),
        state,
        data: {
          dataVersion: data.dataVersion.version,
          source: data.dataVersion.source,
          submittedBy: data.dataVersion.submittedBy,
          createdAt: data.dataVersion.createdAt.toISOString(),
          typeApprovalKnown: data.typeApprovalKnown,
          typeApproval: data.typeApproval,
          values: data.values as Record<string, unknown>,
          provenance: data.provenance,
          corrections: data.dataVersion.corrections,
        },
        findings: { ruleSetVersion: version?.ruleSetVersion ?? null, items: (version?.findings ?? []) as z.input<typeof findingSchema>[] },
        messages: messages.map((message) => ({
          iviReferenceId: message.iviReferenceId,
          messageVersion: message.messageVersion,
          dataVersion: message.dataVersion,
          signed: message.signedAt !== null,
          signedAt: message.signedAt?.toISOString() ?? null,
          createdAt: message.createdAt.toISOString(),
        })),
        history: state.transitions,
      };
      res.json(detail);
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId/status',
    operationId: 'getCertificateStatus',
    summary: 'Where a certificate stands: its row (the projection), and with live=true the live workflow state',
    description:
      'The row is written with every audit batch of the workflow, so it follows the workflow closely without asking it. ' +
      'live=true adds one Temporal query, which replays the workflow on a worker that no longer caches it.',
    tag: 'certificates',
    access: 'authenticated',
    params: certificateParamsSchema,
    query: certificateStatusQuerySchema,
    responses: { 200: { description: 'The status', schema: certificateStatusViewSchema }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ res, params, query, principal }) {
      // One indexed row read: no workflow replay on this hot path, and an unknown id is a 404 at once.
      const row = await visibleCertificate(db, principal, params.certificateId);
      const status: z.input<typeof certificateStatusViewSchema> = { ...summary(row), ...(query.live ? { live: certificateView(await liveState(row.id)) } : {}) };
      res.json(status);
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId/message',
    operationId: 'downloadCertificateMessage',
    summary: 'Download the IVI XML message (signed by default, exactly as signed)',
    tag: 'certificates',
    access: 'authenticated',
    params: certificateParamsSchema,
    query: messageQuerySchema,
    responses: {
      200: { description: 'The IVI 2.0 XML; X-Document-SHA256 carries the hash of the bytes', contentType: 'application/xml' },
      404: { description: 'No such certificate, or no (signed) message at that version yet' },
    },
    async handler({ req, res, params, query, principal }) {
      const row = await visibleCertificate(db, principal, params.certificateId);
      const messageVersion = query.messageVersion ?? row.messageVersion;
      const message = await db.certificateMessage.findFirst({
        where: { certificateId: row.id, messageVersion, ...(query.variant === 'signed' ? { signedXml: { not: null } } : {}) },
        orderBy: { createdAt: 'desc' },
      });
      if (!message || (query.variant === 'signed' && !message.signedXml)) throw notFound(`A ${query.variant} message version ${messageVersion} of ${row.id}`);
      const bytes = query.variant === 'signed' ? Buffer.from(message.signedXml!) : Buffer.from(message.unsignedXml, 'utf8');
      const hash = query.variant === 'signed' ? message.signedHash! : message.unsignedHash;
      await auditApiAction(db, req, 'download_message', row.id, { variant: query.variant, messageVersion, iviReferenceId: message.iviReferenceId, documentHash: hash });
      res
        .status(200)
        .type('application/xml')
        .setHeader('Content-Disposition', `attachment; filename="${row.vin}-s${row.stage}-v${messageVersion}${query.variant === 'signed' ? '' : '-unsigned'}.xml"`)
        .setHeader('X-Document-SHA256', hash)
        .send(bytes);
    },
  });
};
