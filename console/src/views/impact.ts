import type { z } from 'zod';
import type { correctionsStartedSchema, impactReportSchema } from '../../../schemas/api/type-approvals.ts';
import { getJson, postJson } from '../api.ts';
import { fact, h, table } from '../dom.ts';
import { dateTime, displayValue, statusBadge, statusLabel } from '../format.ts';
import { certificateStatuses } from '../model.ts';
import { can, workflowUrl, type Session } from '../session.ts';
import type { CertificatePageHooks } from './certificate.ts';
import { actionForm, refusalBox } from './forms.ts';
import { approvalHref } from './type-approvals.ts';

type Impact = z.infer<typeof impactReportSchema>;

const actionLabels: Record<string, string> = {
  recomposed: 'composed again',
  returned_to_review: 'back to review',
  correction_candidate: 'correction candidate',
  correction_issued: 'correction issued',
  skipped: 'skipped',
};
const POLL_MS = 1_500;

/** What publishing a revision did to the certificates composed from it; the bulk correction of the delivered ones. */
export async function impactView(session: Session, revisionId: string, hooks: CertificatePageHooks): Promise<HTMLElement> {
  const base = `/api/v1/type-approvals/revisions/${encodeURIComponent(revisionId)}`;
  const report = await getJson<Impact>(`${base}/impact`);
  const { revision, workflow, counts } = report;
  follow(`${base}/impact`, report, hooks);
  const candidates = counts.byAction.correction_candidate ?? 0;
  const refusal = refusalBox();
  const correct =
    can(session, 'typeApprovals.correct') && candidates > 0
      ? actionForm(
          `Issue corrections for ${candidates} delivered certificate${candidates === 1 ? '' : 's'}`,
          refusal,
          async () => {
            const started = await postJson<z.infer<typeof correctionsStartedSchema>>(`${base}/corrections`, {});
            return `Corrections started for ${started.candidates} certificate${started.candidates === 1 ? '' : 's'} (workflow ${started.workflowId}): each gets a new message version through the normal review.`;
          },
          (message) => hooks.refresh(message),
        )
      : null;
  const states = [...certificateStatuses, ...Object.keys({ ...counts.byStatusAtImpact, ...counts.byStatusNow }).filter((status) => !(certificateStatuses as readonly string[]).includes(status))].filter(
    (status) => counts.byStatusAtImpact[status] || counts.byStatusNow[status],
  );
  return h(
    'div',
    { className: 'impact' },
    h('p', { className: 'breadcrumb' }, h('a', { href: '#/type-approvals' }, 'Type approvals'), ' › ', h('a', { href: approvalHref(revision.typeApprovalId, { revision: revision.id }) }, revision.number), ' › impact'),
    h('h1', { tabindex: '-1' }, `Impact of revision ${revision.sequence} of ${revision.number}`),
    h('p', { className: 'flash', role: 'status' }, hooks.message ?? ''),
    h(
      'dl',
      { className: 'facts' },
      fact('Revision', `${revision.sequence} · extension ${revision.extensionNumber} · effective ${revision.effectiveDate} · ${revision.reason}`),
      fact('Published', revision.publishedBy ? `by ${revision.publishedBy} at ${dateTime(revision.publishedAt)}` : 'not published: no impact yet'),
      fact('Changed versions', String(report.changedVersions)),
      fact(
        'Workflow',
        workflow
          ? [h('span', { className: 'workflow-status' }, `${workflow.status.toLowerCase()}${workflow.phase && workflow.status === 'RUNNING' ? `, phase ${workflow.phase}` : ''}`), ' · ', h('a', { href: workflowUrl(session, workflow.workflowId), target: '_blank', rel: 'noopener noreferrer' }, `${workflow.workflowId} in the Temporal UI ↗`)]
          : 'not started',
      ),
    ),
    correct ? h('section', { className: 'panel actions', 'aria-labelledby': 'actions-heading' }, h('h2', { id: 'actions-heading' }, 'Actions'), refusal, correct) : null,
    h(
      'section',
      { className: 'impact-counts' },
      h('h2', {}, 'Certificates by state'),
      states.length
        ? table(['State', 'When reached', 'Now'], states.map((status) => [statusLabel(status), String(counts.byStatusAtImpact[status] ?? 0), String(counts.byStatusNow[status] ?? 0)]))
        : h('p', {}, 'No certificate reached (yet).'),
      h('h3', {}, 'By action'),
      Object.keys(counts.byAction).length ? table(['Action', 'Certificates'], Object.entries(counts.byAction).map(([action, count]) => [actionLabels[action] ?? action, String(count)])) : h('p', {}, 'None.'),
    ),
    h(
      'section',
      { className: 'impact-certificates' },
      h('h2', {}, 'Certificates and changed fields'),
      report.certificates.length
        ? table(
            ['VIN', 'Variant', 'Version', 'When reached', 'Now', 'Action', 'New data version', 'Changed fields (old → new)'],
            report.certificates.map((certificate) => [
              h('a', { href: `#/certificates/${encodeURIComponent(certificate.certificateId)}` }, certificate.vin),
              certificate.variant,
              certificate.version,
              statusBadge(certificate.statusAtImpact),
              statusBadge(certificate.statusNow),
              actionLabels[certificate.action] ?? certificate.action,
              certificate.dataVersion === null ? '—' : String(certificate.dataVersion),
              h('ul', { className: 'findings-inline' }, certificate.changedFields.map((change) => h('li', {}, h('code', {}, change.path), `: ${displayValue(change.from)} → ${displayValue(change.to)}`))),
            ]),
            report.truncated ? `The first ${report.certificates.length}; the counts above cover all of them.` : undefined,
          )
        : h('p', {}, 'None.'),
    ),
  );
}

/** While the impact workflow runs, poll the report and re-render when it moved on. */
function follow(path: string, report: Impact, hooks: CertificatePageHooks): void {
  if (report.workflow?.status !== 'RUNNING') return;
  const seen = JSON.stringify([report.workflow, report.counts]);
  const tick = async () => {
    if (!hooks.isCurrent()) return;
    try {
      const next = await getJson<Impact>(path);
      if (!hooks.isCurrent()) return;
      if (JSON.stringify([next.workflow, next.counts]) !== seen) return hooks.refresh(hooks.message);
    } catch {
      // A failed poll is retried; the page keeps what it shows.
    }
    window.setTimeout(tick, POLL_MS);
  };
  window.setTimeout(tick, POLL_MS);
}
