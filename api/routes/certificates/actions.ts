import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Request } from 'express';
import type { output, ZodType } from 'zod';
import { RefusedError, type Permission } from '../../../auth/permissions.ts';
import { discardRefusedVersion, loadDataVersion, storeCorrections } from '../../../certificates/store.ts';
import { composeCertificateData, CompositionError, type Correction } from '../../../ivi/compose.ts';
import { canonicalJson, sha256Hex } from '../../../platform/hash.ts';
import { actionResultSchema, approveBodySchema, correctBodySchema, reasonBodySchema, reassignBodySchema } from '../../../schemas/api/certificates.ts';
import { certificateParamsSchema } from '../../../schemas/api/common.ts';
import type { Actor, CertificateState } from '../../../schemas/certificate.ts';
import type { CocDataGroupValues } from '../../../schemas/ivi/index.ts';
import {
  approveUpdate,
  correctUpdate,
  reassignUpdate,
  rejectUpdate,
  releaseNowUpdate,
  retryUpdate,
  statusQuery,
  withdrawUpdate,
} from '../../../workflows/certificate/definitions.ts';
import type { ApiContext, RouteModule } from '../../context.ts';
import { HttpProblem, RefusalProblem, refusalProblem } from '../../problem.ts';
import { auditApiAction, requestActor } from '../../request-context.ts';
import type { RouteTable } from '../../routes-table.ts';
import { visibleCertificate } from './access.ts';
import { certificateView } from './view.ts';

const stateHash = (state: CertificateState) => sha256Hex(canonicalJson(state));

const actionResponses = {
  200: { description: 'Accepted: the resulting state', schema: actionResultSchema },
  400: { description: 'Invalid request (invalid_request), also when the workflow finds a required text empty' },
  403: { description: 'The role does not allow this (forbidden_role), or four-eyes: you submitted or last changed this data (four_eyes)' },
  404: { description: 'No such certificate for your manufacturers' },
  409: { description: 'Not in this state (not_allowed_in_state), or a stale data version (stale_version); the message says why' },
};

/**
 * Review and lifecycle decisions: each calls a workflow Update with the authenticated identity as
 * actor (the validators check roles and four-eyes again, so a direct Temporal call cannot bypass
 * them) and records the attempt, accepted or refused, in the audit chain with state hashes.
 */
export const certificateActionRoutes: RouteModule = (table, context) => {
  const { db } = context;
  const action = actionFactory(table, context);

  action('approve', 'approve', 'Approve the reviewed data version', 'certificates.approve', approveBodySchema, (handle, actor, body) =>
    handle.executeUpdate(approveUpdate, { args: [{ actor, dataVersion: body.dataVersion, ...(body.comment ? { comment: body.comment } : {}) }] }),
  );
  action('reject', 'reject', 'Reject in review, with a reason', 'certificates.reject', reasonBodySchema, (handle, actor, body) =>
    handle.executeUpdate(rejectUpdate, { args: [{ actor, reason: body.reason }] }),
  );
  action('withdraw', 'withdraw', 'Withdraw the certificate (also at the destination once delivered)', 'certificates.withdraw', reasonBodySchema, (handle, actor, body) =>
    handle.executeUpdate(withdrawUpdate, { args: [{ actor, reason: body.reason }] }),
  );
  action('reassign', 'reassign', 'Give the certificate another owner', 'certificates.reassign', reassignBodySchema, (handle, actor, body) =>
    handle.executeUpdate(reassignUpdate, { args: [{ actor, owner: body.owner }] }),
  );
  action('release-now', 'releaseNow', 'Deliver now instead of with the next scheduled release', 'certificates.release', undefined, (handle, actor) =>
    handle.executeUpdate(releaseNowUpdate, { args: [{ actor }] }),
  );
  action('retry', 'retry', 'Retry a failed step', 'certificates.retry', undefined, (handle, actor) => handle.executeUpdate(retryUpdate, { args: [{ actor }] }));
  action('corrections', 'correct', 'Correct field values (a new data version on top of the delivered record)', 'certificates.correct', correctBodySchema, async (handle, actor, body, before) => {
    // Checked before anything is stored; the workflow's validator decides again.
    if (before.status === 'withdrawn' || before.status === 'delivering') throw new RefusedError('not_allowed_in_state', `cannot correct in state ${before.status}`);
    const at = new Date().toISOString();
    const corrections: Correction[] = body.corrections.map((correction) => ({ path: correction.path, value: correction.value, by: actor.id, at, reason: correction.reason ?? body.reason }));
    await assertCorrectionsApply(db, before, corrections);
    const stored = await storeCorrections(db, before.certificateId, corrections, { submittedBy: actor.id, reason: body.reason });
    return handle
      .executeUpdate(correctUpdate, { args: [{ actor, dataVersion: stored.dataVersion, dataHash: stored.dataHash, reason: body.reason, authors: stored.authors }] })
      .catch(async (error: unknown) => {
        // Refused by the workflow: the version never became the certificate's data.
        if (error instanceof WorkflowUpdateFailedError) await discardRefusedVersion(db, stored);
        throw error;
      });
  });
};

type Handle = ReturnType<ApiContext['client']['workflow']['getHandle']>;

function actionFactory(table: RouteTable, { db, client }: ApiContext) {
  return <B extends ZodType | undefined>(
    segment: string,
    name: string,
    summary: string,
    permission: Permission,
    body: B,
    run: (handle: Handle, actor: Actor, body: B extends ZodType ? output<B> : undefined, before: CertificateState) => Promise<CertificateState>,
  ) =>
    table.add({
      method: 'post',
      path: `/api/v1/certificates/:certificateId/${segment}`,
      operationId: `${name}Certificate`,
      summary,
      tag: 'review',
      access: permission,
      params: certificateParamsSchema,
      body,
      responses: actionResponses,
      async handler({ req, res, params, body: input, principal }) {
        const row = await visibleCertificate(db, principal, params.certificateId);
        const handle = client.workflow.getHandle(row.id);
        const actor = requestActor(req);
        let before: CertificateState;
        let after: CertificateState;
        try {
          before = await handle.query(statusQuery);
          after = await run(handle, actor, input as never, before);
        } catch (error) {
          const problem = refusalProblem(error, row.id);
          if (problem instanceof HttpProblem) {
            await audit(req, name, row.id, { outcome: 'refused', status: problem.status, ...(problem instanceof RefusalProblem ? { kind: problem.kind } : {}), message: problem.message });
          }
          throw problem;
        }
        await audit(req, name, row.id, { outcome: 'accepted', beforeHash: stateHash(before), afterHash: stateHash(after), fromStatus: before.status, toStatus: after.status });
        res.json({ state: certificateView(after) });
      },
    });

  function audit(req: Request, name: string, certificateId: string, detail: Record<string, unknown>) {
    return auditApiAction(db, req, name, certificateId, detail);
  }
}

/**
 * Rejects corrections that do not apply to the current data (a row that is not there, removing a
 * row) before anything is stored. Paths and value types were checked at the door already: the
 * body schema (correctBodySchema) holds each value to its IVI field's schema.
 */
async function assertCorrectionsApply(db: ApiContext['db'], state: CertificateState, corrections: Correction[]): Promise<void> {
  const current = await loadDataVersion(db, state.certificateId, state.dataVersion);
  try {
    composeCertificateData({
      typeApprovalValues: {} as CocDataGroupValues,
      vehicleValues: { source: 'api', values: current.record.values as CocDataGroupValues },
      corrections: [...current.corrections, ...corrections],
    });
  } catch (error) {
    if (error instanceof CompositionError) {
      throw new HttpProblem(400, 'invalid_correction', error.message, { errors: [{ path: 'corrections', message: error.message }] });
    }
    throw error;
  }
}
