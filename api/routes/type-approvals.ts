import type { Request } from 'express';
import { seesAllManufacturers, canSeeManufacturer, type Principal } from '../../auth/principal.ts';
import { RefusedError } from '../../auth/permissions.ts';
import { readTypeApprovalFile, writeTypeApprovalFile } from '../../ivi/type-approvals/files/index.ts';
import { approvalReadiness, impactReport, impactStateCounts, readinessOverview, revisionChanges } from '../../ivi/type-approvals/impact.ts';
import { createTypeApprovalRepository } from '../../ivi/type-approvals/repository.ts';
import { startCorrections, startImpact, impactWorkflowView } from '../../ivi/type-approvals/service.ts';
import {
  correctionsBodySchema,
  correctionsStartedSchema,
  diffQuerySchema,
  draftValueBodySchema,
  draftValueResultSchema,
  exportQuerySchema,
  impactReportSchema,
  importBodySchema,
  importReportSchema,
  openDraftBodySchema,
  publishResultSchema,
  readinessOverviewSchema,
  readinessSchema,
  revisionContentSchema,
  revisionDiffSchema,
  revisionParamsSchema,
  savedDraftSchema,
  typeApprovalDetailSchema,
  typeApprovalDraftBodySchema,
  typeApprovalListQuerySchema,
  typeApprovalListSchema,
  typeApprovalParamsSchema,
} from '../../schemas/api/type-approvals.ts';
import type { RouteModule } from '../context.ts';
import { auditApiAction } from '../request-context.ts';

const CONTENT_TYPES = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
} as const;

/** The caller's manufacturers, as the repository filters by them. */
function scopeOf(principal: Principal): readonly string[] | 'all' {
  return seesAllManufacturers(principal) ? 'all' : principal.manufacturers;
}

/** Whose approval a draft is: the one named (within the caller's scope) or the caller's only manufacturer. */
function draftManufacturer(principal: Principal, named: string | undefined): string {
  if (named !== undefined) {
    // Another manufacturer's approval does not exist for this caller.
    if (!canSeeManufacturer(principal, named)) throw new RefusedError('not_found', `no manufacturer ${named} among yours`);
    return named;
  }
  if (!seesAllManufacturers(principal) && principal.manufacturers.length === 1) return principal.manufacturers[0]!;
  throw new RefusedError('invalid', 'name the manufacturer (manufacturerId): your credential covers several');
}

const notFound = { 404: { description: 'No such type approval or revision among your manufacturers' } };

/**
 * Type-approval master data, `/api/v1/type-approvals`: approvals and their revisions, drafts
 * (whole files or single values), four-eyes publishing that starts the change impact on
 * Temporal, diffs, exports, the impact report with bulk corrections, and readiness per group.
 */
export const typeApprovalRoutes: RouteModule = (table, { db, client, config }) => {
  const repository = createTypeApprovalRepository(db);
  const actorId = (req: Request) => req.principal!.subject;
  const audit = (req: Request, action: string, detail: Record<string, unknown>) => auditApiAction(db, req, action, null, detail);

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals',
    operationId: 'listTypeApprovals',
    summary: 'List type approvals (search by number or type)',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    query: typeApprovalListQuerySchema,
    responses: { 200: { description: 'Approvals with their newest published revision and open draft', schema: typeApprovalListSchema } },
    async handler({ res, query, principal }) {
      res.json({ approvals: await repository.list(scopeOf(principal), query) });
    },
  });

  // Before /:typeApprovalId, which would take `readiness` for an id.
  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/readiness',
    operationId: 'getTypeApprovalsReadinessOverview',
    summary: 'Per approval: its certificates, how many delivered and how many blocked (one grouped query, for the console dashboard)',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    responses: { 200: { description: 'Readiness per approval', schema: readinessOverviewSchema } },
    async handler({ res, principal }) {
      res.json({ approvals: await readinessOverview(db, scopeOf(principal)) });
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/type-approvals/drafts',
    operationId: 'saveTypeApprovalDraft',
    summary: 'Create the approval’s draft revision, or replace the content of its open draft',
    tag: 'type-approvals',
    access: 'typeApprovals.draft',
    body: typeApprovalDraftBodySchema,
    bodyLimit: '20mb',
    responses: { 201: { description: 'The draft', schema: savedDraftSchema }, ...notFound },
    async handler({ req, res, body, principal }) {
      draftManufacturer(principal, body.manufacturerId);
      const saved = await repository.saveDraft(body, actorId(req));
      await audit(req, 'type_approval.draft_saved', { ...saved, number: body.number, versions: body.versions.length });
      res.status(201).json(saved);
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/type-approvals/imports',
    operationId: 'importTypeApproval',
    summary: 'Import an approval from an XLSX, CSV or JSON file as a draft (nothing is stored when the file has problems)',
    tag: 'type-approvals',
    access: 'typeApprovals.draft',
    body: importBodySchema,
    bodyLimit: '40mb',
    responses: {
      201: { description: 'Stored as a draft', schema: importReportSchema },
      200: { description: 'Checked (dry run), nothing stored', schema: importReportSchema },
      422: { description: 'The file has problems (per sheet, row, column and IVI field); nothing stored', schema: importReportSchema, contentType: 'application/json' },
      ...notFound,
    },
    async handler({ req, res, body, principal }) {
      const manufacturerId = draftManufacturer(principal, body.manufacturerId);
      const read = await readTypeApprovalFile(Buffer.from(body.content, 'base64'), body.format, { manufacturerId });
      if (!read.draft) {
        res.status(422).json({ status: 'rejected', problems: read.problems, warnings: read.warnings });
        return;
      }
      if (read.draft.manufacturerId !== manufacturerId) throw new RefusedError('not_found', `no manufacturer ${read.draft.manufacturerId} among yours`);
      const summary = { number: read.draft.number, versions: read.draft.versions.length };
      if (body.dryRun) {
        res.status(200).json({ status: 'checked', problems: [], warnings: read.warnings, ...summary });
        return;
      }
      const draft = await repository.saveDraft(read.draft, actorId(req));
      await audit(req, 'type_approval.imported', { ...draft, ...summary, format: body.format, fileName: body.fileName ?? null, warnings: read.warnings.length });
      res.status(201).json({ status: 'saved', problems: [], warnings: read.warnings, draft, ...summary });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/:typeApprovalId',
    operationId: 'getTypeApproval',
    summary: 'An approval with its revisions (newest first)',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: typeApprovalParamsSchema,
    responses: { 200: { description: 'The approval', schema: typeApprovalDetailSchema }, ...notFound },
    async handler({ res, params, principal }) {
      res.json(await repository.get(params.typeApprovalId, scopeOf(principal)));
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/type-approvals/:typeApprovalId/drafts',
    operationId: 'openTypeApprovalDraft',
    summary: 'Open a draft revision from the newest revision, to change single values (the open draft if there is one)',
    tag: 'type-approvals',
    access: 'typeApprovals.draft',
    params: typeApprovalParamsSchema,
    body: openDraftBodySchema,
    responses: { 201: { description: 'The draft', schema: savedDraftSchema.pick({ revisionId: true, sequence: true }) }, ...notFound },
    async handler({ req, res, params, body, principal }) {
      const draft = await repository.openDraft(params.typeApprovalId, actorId(req), scopeOf(principal), body);
      await audit(req, 'type_approval.draft_opened', { typeApprovalId: params.typeApprovalId, ...draft });
      res.status(201).json(draft);
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/:typeApprovalId/readiness',
    operationId: 'getTypeApprovalReadiness',
    summary: 'Certificates of the approval per variant/version: how many in each state, which rules block them',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: typeApprovalParamsSchema,
    responses: { 200: { description: 'Readiness per vehicle group', schema: readinessSchema }, ...notFound },
    async handler({ res, params, principal }) {
      res.json(await approvalReadiness(db, params.typeApprovalId, scopeOf(principal)));
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/revisions/:revisionId',
    operationId: 'getTypeApprovalRevision',
    summary: 'A revision with its variants/versions and their values',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: revisionParamsSchema,
    responses: { 200: { description: 'The revision', schema: revisionContentSchema }, ...notFound },
    async handler({ res, params, principal }) {
      res.json(await repository.revision(params.revisionId, scopeOf(principal)));
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/type-approvals/revisions/:revisionId/values',
    operationId: 'setTypeApprovalDraftValue',
    summary: 'Change (or with null remove) one value of one version in a draft, checked against the IVI field type',
    tag: 'type-approvals',
    access: 'typeApprovals.draft',
    params: revisionParamsSchema,
    body: draftValueBodySchema,
    responses: { 200: { description: 'The value as stored', schema: draftValueResultSchema }, 409: { description: 'The revision is published (not_allowed_in_state)' }, ...notFound },
    async handler({ req, res, params, body, principal }) {
      const result = await repository.setDraftValue(params.revisionId, body, actorId(req), scopeOf(principal));
      await audit(req, 'type_approval.value_changed', { revisionId: params.revisionId, variant: body.variant, version: body.version, path: result.path, value: result.value });
      res.json(result);
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/type-approvals/revisions/:revisionId/publish',
    operationId: 'publishTypeApprovalRevision',
    summary: 'Publish a draft (by someone who did not draft it); starts the change impact',
    tag: 'type-approvals',
    access: 'typeApprovals.publish',
    params: revisionParamsSchema,
    responses: {
      200: { description: 'Published; the impact workflow runs', schema: publishResultSchema },
      403: { description: 'The caller drafted the revision (four_eyes) or lacks the role' },
      409: { description: 'Already published (not_allowed_in_state)' },
      ...notFound,
    },
    async handler({ req, res, params, principal }) {
      const { revision, previousId } = await repository.publish(params.revisionId, actorId(req), scopeOf(principal));
      await audit(req, 'type_approval.published', { revisionId: revision.id, typeApprovalId: revision.typeApprovalId, number: revision.number, sequence: revision.sequence, previousRevisionId: previousId });
      const impactWorkflowId = await startImpact(client, config.ECOC_TASK_QUEUE, revision.id, actorId(req));
      res.json({ revision, impactWorkflowId });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/revisions/:revisionId/diff',
    operationId: 'diffTypeApprovalRevisions',
    summary: 'What changed from an earlier revision (default: the one in effect before) to this one',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: revisionParamsSchema,
    query: diffQuerySchema,
    responses: { 200: { description: 'Approval fields and per variant/version the values added, removed or changed', schema: revisionDiffSchema }, ...notFound },
    async handler({ res, params, query, principal }) {
      const scope = scopeOf(principal);
      const { revision } = await repository.revision(params.revisionId, scope);
      const changes = await revisionChanges(db, params.revisionId);
      const against = query.against ?? changes.previousId;
      if (against) res.json(await repository.diff(against, params.revisionId, scope));
      else res.json({ from: null, to: revision, approval: changes.diff.approval, versions: changes.diff.versions });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/revisions/:revisionId/export',
    operationId: 'exportTypeApprovalRevision',
    summary: 'A revision as an XLSX, CSV or JSON file (the import layout: importing it gives the same draft)',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: revisionParamsSchema,
    query: exportQuerySchema,
    responses: { 200: { description: 'The file', contentType: 'application/octet-stream' }, ...notFound },
    async handler({ res, params, query, principal }) {
      const { revision, approval } = await repository.revision(params.revisionId, scopeOf(principal));
      const file = await writeTypeApprovalFile(
        { ...approval, revision: { extensionNumber: revision.extensionNumber, effectiveDate: revision.effectiveDate, reason: revision.reason } },
        query.format,
      );
      const name = `${approval.number.replace(/[^A-Za-z0-9._-]+/g, '_')}-r${revision.sequence}.${query.format}`;
      res.setHeader('Content-Type', CONTENT_TYPES[query.format]);
      res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
      res.send(Buffer.from(file));
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/revisions/:revisionId/impact',
    operationId: 'getTypeApprovalImpact',
    summary: 'What publishing the revision did: counts per state and action, the certificates and their changed fields',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: revisionParamsSchema,
    responses: { 200: { description: 'The impact report', schema: impactReportSchema }, ...notFound },
    async handler({ res, params, principal }) {
      const report = await impactReport(db, params.revisionId, scopeOf(principal));
      res.json({ ...report, workflow: report.revision.status === 'published' ? await impactWorkflowView(client, params.revisionId) : null });
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/type-approvals/revisions/:revisionId/corrections',
    operationId: 'issueTypeApprovalCorrections',
    summary: 'Issue corrections (a new message version through the normal review) for delivered certificates the revision changed',
    tag: 'type-approvals',
    access: 'typeApprovals.correct',
    params: revisionParamsSchema,
    body: correctionsBodySchema,
    responses: { 202: { description: 'The corrections run', schema: correctionsStartedSchema }, ...notFound },
    async handler({ req, res, params, body, principal }) {
      const { revision } = await repository.revision(params.revisionId, scopeOf(principal));
      if (revision.status !== 'published') throw new RefusedError('not_allowed_in_state', `revision ${revision.sequence} is not published`);
      const started = await startCorrections(db, client, config.ECOC_TASK_QUEUE, revision.id, actorId(req), body.certificateIds);
      await audit(req, 'type_approval.corrections_requested', { revisionId: revision.id, ...started });
      res.status(202).json(started);
    },
  });

  // The impact's state counts without acting, for planning (also what the benchmark measures).
  table.add({
    method: 'get',
    path: '/api/v1/type-approvals/revisions/:revisionId/impact-preview',
    operationId: 'previewTypeApprovalImpact',
    summary: 'How many certificates in each state the revision’s changes reach (before publishing)',
    tag: 'type-approvals',
    access: 'typeApprovals.view',
    params: revisionParamsSchema,
    responses: { 200: { description: 'State counts', schema: readinessSchema.pick({ byStatus: true }).extend({ changedVersions: readinessSchema.shape.total }) }, ...notFound },
    async handler({ res, params, principal }) {
      await repository.revision(params.revisionId, scopeOf(principal));
      res.json(await impactStateCounts(db, params.revisionId));
    },
  });
};
