import { importVectoForCertificate, vectoImportRecordSchema } from '../../../certificates/vecto.ts';
import { VectoFormatError, VectoVersionError } from '../../../connectors/vecto/read.ts';
import { certificateParamsSchema } from '../../../schemas/api/common.ts';
import { vectoUploadBodySchema } from '../../../schemas/api/vecto.ts';
import type { RouteModule } from '../../context.ts';
import { HttpProblem } from '../../problem.ts';
import { auditApiAction, requestActor } from '../../request-context.ts';
import { visibleCertificate } from './access.ts';

/** Files that cannot be read as VECTO CIF/MRF; refusals (RefusedError) are answered by the problem handler. */
function vectoFileProblem(error: unknown): unknown {
  if (error instanceof VectoVersionError || error instanceof VectoFormatError) return new HttpProblem(422, 'invalid_vecto_file', error.message);
  return error;
}

/** VECTO CIF + MRF upload for a certificate (stored as proposals, certificates/vecto.ts); confirming is routes/vecto-imports.ts. */
export const certificateVectoRoutes: RouteModule = (table, { db, config }) => {
  table.add({
    method: 'post',
    path: '/api/v1/certificates/:certificateId/vecto',
    operationId: 'uploadVecto',
    summary: 'Upload a VECTO CIF + MRF pair: hash relation check, proposals, type-approval cross-checks (nothing changes until confirmed)',
    tag: 'vecto',
    access: 'vecto.import',
    params: certificateParamsSchema,
    body: vectoUploadBodySchema(config.ECOC_XML_MAX_BYTES),
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
        throw vectoFileProblem(error);
      });
      await auditApiAction(db, req, 'vecto_import', certificate.id, { importId: record.id, cifSha256: record.files.cifSha256, mrfSha256: record.files.mrfSha256, hashMatches: record.hashCheck.matches });
      res.status(201).json(record);
    },
  });
};
