import { confirmVectoProposals, vectoImportRecordSchema } from '../../certificates/vecto.ts';
import { vectoConfirmBodySchema, vectoImportParamsSchema } from '../../schemas/api/vecto.ts';
import type { RouteModule } from '../context.ts';
import { notFound, refusalProblem } from '../problem.ts';
import { auditApiAction, requestActor } from '../request-context.ts';
import { visibleCertificate } from './certificates/access.ts';

/** Confirming a VECTO import (uploaded per certificate, routes/certificates/vecto.ts). */
export const vectoImportRoutes: RouteModule = (table, { db, client }) => {
  table.add({
    method: 'post',
    path: '/api/v1/vecto-imports/:importId/confirm',
    operationId: 'confirmVecto',
    summary: 'Accept VECTO proposals: they become corrections (source vecto) in a new data version, reviewed again',
    tag: 'vecto',
    access: 'vecto.confirm',
    params: vectoImportParamsSchema,
    body: vectoConfirmBodySchema,
    responses: {
      200: { description: 'The confirmed import', schema: vectoImportRecordSchema },
      400: { description: 'Proposal paths that the import did not propose or that do not fit the data (invalid_request)' },
      404: { description: 'No such import for your manufacturers' },
      409: { description: 'The import cannot be confirmed (hash check or identity failed, certificate state): not_allowed_in_state or stale_version' },
    },
    async handler({ req, res, params, body, principal }) {
      const stored = await db.vectoImport.findUnique({ where: { id: params.importId }, select: { certificateId: true } });
      if (!stored) throw notFound(`VECTO import ${params.importId}`);
      await visibleCertificate(db, principal, stored.certificateId).catch(() => {
        throw notFound(`VECTO import ${params.importId}`);
      });
      const record = await confirmVectoProposals(db, client, {
        importId: params.importId,
        actor: requestActor(req),
        ...(body.proposalPaths ? { proposalPaths: body.proposalPaths } : {}),
        ...(body.reason ? { reason: body.reason } : {}),
      }).catch((error: unknown) => {
        throw refusalProblem(error, stored.certificateId);
      });
      await auditApiAction(db, req, 'vecto_confirm', stored.certificateId, { importId: params.importId, paths: record.confirmation?.paths ?? [] });
      res.json(record);
    },
  });
};
