import { diffDataVersions } from '../../../certificates/data-diff.ts';
import { auditListSchema, auditQuerySchema } from '../../../schemas/api/audit.ts';
import { certificateParamsSchema } from '../../../schemas/api/common.ts';
import { dataDiffQuerySchema, dataDiffSchema, dataVersionListSchema, receiptListSchema } from '../../../schemas/api/certificates.ts';
import type { RouteModule } from '../../context.ts';
import { notFound } from '../../problem.ts';
import { auditView } from '../audit.ts';
import { visibleCertificate } from './access.ts';

/** A validation finding as stored with a data version. */
export interface StoredFinding {
  ruleId: string;
  path: string;
  message: string;
  severity: string;
  owner: string;
}

/** A certificate's history: its audit records, data versions and their diff, delivery receipts. */
export const certificateHistoryRoutes: RouteModule = (table, { db }) => {
  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId/audit',
    operationId: 'getCertificateAudit',
    summary: 'The certificate’s audit records (chained), oldest first',
    tag: 'audit',
    access: 'authenticated',
    params: certificateParamsSchema,
    query: auditQuerySchema,
    responses: { 200: { description: 'One page of audit records', schema: auditListSchema }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ res, params, query, principal }) {
      const row = await visibleCertificate(db, principal, params.certificateId);
      const records = await db.auditRecord.findMany({
        where: { certificateId: row.id, ...(query.after ? { id: { gt: BigInt(query.after) } } : {}) },
        orderBy: { id: 'asc' },
        take: query.limit + 1,
      });
      const page = records.slice(0, query.limit);
      res.json({ records: page.map(auditView), nextCursor: records.length > query.limit ? page.at(-1)!.id.toString() : null });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId/versions',
    operationId: 'listCertificateDataVersions',
    summary: 'The certificate’s data versions (ingests and corrections), oldest first, with their validation counts',
    tag: 'certificates',
    access: 'authenticated',
    params: certificateParamsSchema,
    responses: { 200: { description: 'Data versions', schema: dataVersionListSchema }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ res, params, principal }) {
      const row = await visibleCertificate(db, principal, params.certificateId);
      const versions = await db.certificateDataVersion.findMany({
        where: { certificateId: row.id },
        orderBy: { version: 'asc' },
        select: { version: true, source: true, submittedBy: true, reason: true, createdAt: true, hash: true, ruleSetVersion: true, findings: true, corrections: true, typeApprovalRevisionId: true },
      });
      res.json({
        versions: versions.map((version) => {
          const findings = (version.findings ?? []) as unknown as StoredFinding[];
          const errors = findings.filter((finding) => finding.severity === 'error').length;
          return {
            version: version.version,
            source: version.source,
            submittedBy: version.submittedBy,
            reason: version.reason,
            createdAt: version.createdAt.toISOString(),
            hash: version.hash,
            ruleSetVersion: version.ruleSetVersion,
            errors,
            warnings: findings.length - errors,
            corrections: (version.corrections as unknown[]).length,
            typeApprovalRevisionId: version.typeApprovalRevisionId,
          };
        }),
      });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId/diff',
    operationId: 'diffCertificateDataVersions',
    summary: 'What changed between two data versions: each composed leaf value before and after, with its source',
    tag: 'certificates',
    access: 'authenticated',
    params: certificateParamsSchema,
    query: dataDiffQuerySchema,
    responses: { 200: { description: 'Changed leaf values', schema: dataDiffSchema }, 404: { description: 'No such certificate or data version' } },
    async handler({ res, params, query, principal }) {
      const row = await visibleCertificate(db, principal, params.certificateId);
      const known = await db.certificateDataVersion.count({ where: { certificateId: row.id, version: { in: [query.from, query.to] } } });
      if (known < new Set([query.from, query.to]).size) throw notFound(`Data version ${query.from} or ${query.to} of ${row.id}`);
      res.json({ from: query.from, to: query.to, changes: await diffDataVersions(db, row.id, query.from, query.to) });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/certificates/:certificateId/receipts',
    operationId: 'listCertificateReceipts',
    summary: 'What destinations answered for the certificate’s delivered messages',
    tag: 'certificates',
    access: 'authenticated',
    params: certificateParamsSchema,
    responses: { 200: { description: 'Delivery receipts, oldest first', schema: receiptListSchema }, 404: { description: 'No such certificate for your manufacturers' } },
    async handler({ res, params, principal }) {
      const row = await visibleCertificate(db, principal, params.certificateId);
      const receipts = await db.deliveryReceipt.findMany({ where: { certificateId: row.id }, orderBy: { deliveredAt: 'asc' } });
      res.json({
        receipts: receipts.map((receipt) => ({
          id: receipt.id,
          iviReferenceId: receipt.iviReferenceId,
          messageVersion: receipt.messageVersion,
          destination: receipt.destination,
          kind: receipt.kind,
          reference: receipt.reference,
          batchId: receipt.batchId,
          deliveredAt: receipt.deliveredAt.toISOString(),
          acknowledgedAt: receipt.acknowledgedAt?.toISOString() ?? null,
        })),
      });
    },
  });
};
