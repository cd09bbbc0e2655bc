import { confirmVectoProposals, importVectoForCertificate, VectoRefusedError, vectoImportRecordSchema } from '../../certificates/vecto.ts';
import { VectoFormatError, VectoVersionError } from '../../connectors/vecto/read.ts';
import { certificateParamsSchema } from '../../schemas/api/common.ts';
import { vectoConfirmBodySchema, vectoImportParamsSchema, vectoUploadBodySchema } from '../../schemas/api/vecto.ts';
import { auditApiAction, requestActor, visibleCertificate } from '../certificate-access.ts';
import type { RouteModule } from '../context.ts';
import { HttpProblem, notFound } from '../problem.ts';
import { workflowProblem } from '../workflow-errors.ts';

const refusal = { forbidden: 403, not_found: 404, conflict: 409, invalid: 422 } as const;

function vectoProblem(error: unknown): unknown {
  if (error instanceof VectoRefusedError) return new HttpProblem(refusal[error.reason], `vecto_${error.reason}`, error.message);
  if (error instanceof VectoVersionError || error instanceof VectoFormatError) return new HttpProblem(422, 'invalid_vecto_file', error.message);
  return error;
}

/** VECTO CIF + MRF upload per certificate (stored as proposals, certificates/vecto.ts) and their confirmation. */
export const vectoRoutes: RouteModule = (table, { db, client, config }) => {
  table.add({
    method: 'post',
    path: '/api/v1/certificates/:certificateId/vecto',
    operationId: 'uploadVecto',
    summary: 'Upload a VECTO CIF + MRF pair: hash relation check, proposals, type-approval cross-checks (nothing changes until confirmed)',
    tag: 'vecto',
    access: ['integrator', 'homologation', 'admin'],
    params: certificateParamsSchema,
    body: vectoUploadBodySchema,
    // Two XML files, each up to ECOC_XML_MAX_BYTES, as JSON strings (escaping can add a little).
    bodyLimit: config.ECOC_XML_MAX_BYTES * 2 + 64 * 1024,
    responses: {
      201: { description: 'The stored import with proposals and findings', schema: vectoImportRecordSchema },
      404: { description: 'No such certificate for your manufacturers' },
      422: { description: 'The files cannot be read as VECTO CIF/MRF' },
    },
    async handler({ req, res, params, body, principal }) {
      const certificate = await visibleCertificate(db, principal, params.certificateId);
      const record = await importVectoForCertificate(db, {
        certificateId: certificate.id,
        cif: body.cif,
        mrf: body.mrf,
        actor: requestActor(req),
        maxBytes: config.ECOC_XML_MAX_BYTES,
        ...(body.vocational !== undefined ? { vocational: body.vocational } : {}),
      }).catch((error: unknown) => {
        throw vectoProblem(error);
      });
      await auditApiAction(db, req, 'vecto_import', certificate.id, { importId: record.id, cifSha256: record.files.cifSha256, mrfSha256: record.files.mrfSha256, hashMatches: record.hashCheck.matches });
      res.status(201).json(record);
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/vecto-imports/:importId/confirm',
    operationId: 'confirmVecto',
    summary: 'Accept VECTO proposals: they become corrections (source vecto) in a new data version, reviewed again',
    tag: 'vecto',
    access: ['homologation', 'admin'],
    params: vectoImportParamsSchema,
    body: vectoConfirmBodySchema,
    responses: {
      200: { description: 'The confirmed import', schema: vectoImportRecordSchema },
      404: { description: 'No such import for your manufacturers' },
      409: { description: 'The import cannot be confirmed (hash check or identity failed, certificate state)' },
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
        throw workflowProblem(vectoProblem(error), stored.certificateId);
      });
      await auditApiAction(db, req, 'vecto_confirm', stored.certificateId, { importId: params.importId, paths: record.confirmation?.paths ?? [] });
      res.json(record);
    },
  });
};
