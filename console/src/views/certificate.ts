import type { DataDiff, DataVersionList, ReceiptList } from '../../../schemas/api/certificates.ts';
import { leafValues } from '../../../ivi/leaf-values.ts';
import { ApiError, download, getJson, query } from '../api.ts';
import { cocSections, leafLabel, topElement } from '../coc-sections.ts';
import { fact, field, h, options, table, type Child } from '../dom.ts';
import { dateTime, displayValue, duration, humanize, sourceBadge, statusBadge, statusLabel } from '../format.ts';
import { workflowUrl, type Session } from '../session.ts';
import { actionPanel, type CertificateDetail } from './actions.ts';
import { approvalHref } from './type-approvals.ts';

/** States the workflow leaves on its own: the page follows them until a person is needed again. */
const moving = new Set(['received', 'validating', 'generated', 'approved', 'signed', 'delivering']);
const POLL_MS = 1_500;

export interface CertificatePageHooks {
  /** Re-renders the page (after an action, or when the workflow moved on). */
  refresh(message?: string): void;
  /** False once the user navigated elsewhere: stops polling. */
  isCurrent(): boolean;
  message?: string | undefined;
}

export async function certificateView(session: Session, certificateId: string, hooks: CertificatePageHooks): Promise<HTMLElement> {
  const base = `/api/v1/certificates/${encodeURIComponent(certificateId)}`;
  const [detail, versions, receipts] = await Promise.all([
    getJson<CertificateDetail>(base),
    getJson<DataVersionList>(`${base}/versions`),
    getJson<ReceiptList>(`${base}/receipts`),
  ]);
  const { state, certificate } = detail;
  const leaves = leafValues(detail.data.values);
  const actions = actionPanel(session, detail, leaves, (message) => hooks.refresh(message));
  follow(base, detail, hooks);

  const now = Date.now();
  const deadline = state.reviewDeadline ? new Date(state.reviewDeadline).getTime() : undefined;
  return h(
    'div',
    { className: 'certificate' },
    h('p', { className: 'breadcrumb' }, h('a', { href: '#/queue/all' }, 'Certificates'), ' › ', certificate.vin),
    h('h1', { tabindex: '-1' }, `${certificate.vin} · stage ${certificate.stage} `, statusBadge(state.status)),
    h('p', { className: 'flash', role: 'status' }, hooks.message ?? ''),
    h(
      'dl',
      { className: 'facts' },
      fact('State', statusBadge(state.status)),
      fact('Manufacturer', certificate.manufacturerId),
      fact('Type approval', typeApprovalFact(detail)),
      fact('Destination', certificate.destination ?? '—'),
      fact('Owner', state.owner ?? 'unassigned'),
      fact('Data version', `${state.dataVersion} (from ${detail.data.source}, by ${detail.data.submittedBy})`),
      fact('Message version', String(state.messageVersion)),
      state.reviewDeadline && deadline !== undefined
        ? fact('Review deadline', h('span', { className: deadline < now ? 'overdue' : '' }, `${dateTime(state.reviewDeadline)} (${deadline < now ? `overdue by ${duration(now - deadline)}` : `in ${duration(deadline - now)}`})`))
        : null,
      fact('Workflow', h('a', { href: workflowUrl(session, state.certificateId), target: '_blank', rel: 'noopener noreferrer' }, `${state.certificateId} in the Temporal UI ↗`)),
    ),
    notices(detail),
    actions.element,
    findingsSection(detail),
    dataSection(detail, leaves, actions.correct),
    versionsSection(base, versions, state.dataVersion),
    timelineSection(detail),
    messagesSection(base, detail),
    receiptsSection(receipts),
  );
}

/**
 * While the workflow works on its own, poll the status (the certificate row: no workflow replay)
 * and re-render when it moved. Only a certificate released now asks for the live state, to see
 * its release request dropped, which changes no row.
 */
function follow(base: string, detail: CertificateDetail, hooks: CertificatePageHooks): void {
  // Released now: it leaves awaiting_release on its own too, once its own release claims it.
  const releasing = detail.state.status === 'awaiting_release' && detail.state.releaseRequested;
  if (!moving.has(detail.state.status) && !releasing) return;
  const tick = async () => {
    if (!hooks.isCurrent()) return;
    try {
      const now = await getJson<{ status: string; dataVersion: number; live?: CertificateDetail['state'] }>(`${base}/status${releasing ? '?live=true' : ''}`);
      if (!hooks.isCurrent()) return;
      if (now.status !== detail.state.status || now.dataVersion !== detail.state.dataVersion || (now.live && !now.live.releaseRequested)) return hooks.refresh(hooks.message);
    } catch {
      // A failed poll is retried; the page keeps what it shows.
    }
    window.setTimeout(tick, POLL_MS);
  };
  window.setTimeout(tick, POLL_MS);
}

/** Where the approved values came from: the exact revision and version on the approval page. */
function revisionLink(detail: CertificateDetail, revisionId: string, label: Child): Child {
  const { typeApproval } = detail.data;
  if (!typeApproval) return label;
  return h('a', { href: approvalHref(typeApproval.typeApprovalId, { revision: revisionId, variant: detail.certificate.variant, version: detail.certificate.version }) }, label);
}

function typeApprovalFact(detail: CertificateDetail): Child {
  const { certificate } = detail;
  const text = `${certificate.typeApprovalNumber} · variant ${certificate.variant} · version ${certificate.version}`;
  const { typeApproval } = detail.data;
  if (!typeApproval) return text;
  return [text, ' · ', revisionLink(detail, typeApproval.id, `revision ${typeApproval.sequence} (extension ${typeApproval.extensionNumber})`)];
}

function notices(detail: CertificateDetail): HTMLElement | null {
  const { state } = detail;
  const items = [
    state.rejection ? `Rejected by ${state.rejection.by}: ${state.rejection.reason}` : null,
    state.withdrawal ? `Withdrawal by ${state.withdrawal.by}: ${state.withdrawal.reason}` : null,
    state.failure ? `Failed in ${state.failure.step}: ${state.failure.reason}` : null,
    state.escalated ? `Review escalated to ${state.owner ?? 'the escalation owner'}` : null,
  ].filter((item): item is string => item !== null);
  return items.length ? h('ul', { className: 'notices' }, items.map((item) => h('li', {}, item))) : null;
}

function findingsSection(detail: CertificateDetail): HTMLElement {
  const { items, ruleSetVersion } = detail.findings;
  return h(
    'section',
    {},
    h('h2', {}, 'Findings'),
    h('p', { className: 'muted' }, ruleSetVersion ? `Rule set ${ruleSetVersion}, data version ${detail.data.dataVersion}.` : 'Not validated yet.'),
    items.length
      ? table(
          ['Severity', 'Rule', 'Field', 'Message', 'Owner'],
          items.map((finding) => [h('span', { className: `severity severity-${finding.severity}` }, finding.severity), h('code', {}, finding.ruleId), h('code', {}, finding.path), finding.message, finding.owner]),
        )
      : ruleSetVersion
        ? h('p', {}, 'No findings.')
        : null,
  );
}

/** The data grouped like the paper CoC, each value with its source. */
function dataSection(detail: CertificateDetail, leaves: Map<string, unknown>, correct: ((path: string, current: unknown) => void) | undefined): HTMLElement {
  const byElement = new Map<string, string[]>();
  for (const path of leaves.keys()) {
    const element = topElement(path);
    byElement.set(element, [...(byElement.get(element) ?? []), path]);
  }
  const mapped = new Set(cocSections.flatMap((section) => section.entries.map(([element]) => element)));
  const sections = [...cocSections, { title: 'Other entries', entries: [...byElement.keys()].filter((element) => !mapped.has(element)).map((element) => [element, ''] as const) }];
  const source = (path: string) => detail.data.provenance[path];
  return h(
    'section',
    { className: 'coc' },
    h('h2', {}, 'Certificate of conformity data'),
    h('p', { className: 'muted' }, `Data version ${detail.data.dataVersion}, ${detail.data.typeApprovalKnown ? 'type-approval master data applied' : 'type approval not in the master data: values come from the vehicle record alone'}.`),
    sections.map((section) => {
      const rows = section.entries.flatMap(([element, entry]) =>
        (byElement.get(element) ?? []).map((path, index) => [
          index === 0 ? entry : '',
          h('span', { title: path }, leafLabel(path, humanize)),
          displayValue(leaves.get(path)),
          source(path)?.revisionId ? revisionLink(detail, source(path)!.revisionId!, sourceBadge(source(path))) : sourceBadge(source(path)),
          ...(correct ? [h('button', { type: 'button', className: 'link', 'aria-label': `Correct ${leafLabel(path, humanize)}`, onClick: () => correct(path, leaves.get(path)) }, 'Correct')] : []),
        ]),
      );
      if (rows.length === 0) return null;
      // Collapsible, open by default: a reviewer reads it all, an engineer may fold what is settled.
      return h('details', { className: 'coc-section', open: true }, h('summary', {}, h('h3', {}, section.title)), table(['Entry', 'Field', 'Value', 'Source', ...(correct ? ['Correct'] : [])], rows));
    }),
  );
}

function versionsSection(base: string, list: DataVersionList, current: number): HTMLElement {
  const numbers = list.versions.map((version) => String(version.version));
  const from = h('select', { name: 'from' }, options(numbers, String(Math.max(1, current - 1))));
  const to = h('select', { name: 'to' }, options(numbers, String(current)));
  const result = h('div', { className: 'diff', 'aria-live': 'polite' });
  const compare = async () => {
    result.replaceChildren(h('p', {}, 'Comparing…'));
    try {
      const diff = await getJson<DataDiff>(`${base}/diff${query({ from: from.value, to: to.value })}`);
      result.replaceChildren(
        diff.changes.length
          ? table(
              ['Field', `Version ${diff.from}`, `Version ${diff.to}`, 'Source now'],
              diff.changes.map((change) => [h('code', {}, change.path), displayValue(change.before), displayValue(change.after), sourceBadge(change.afterSource ?? change.beforeSource)]),
              `${diff.changes.length} field${diff.changes.length === 1 ? ' differs' : 's differ'} between version ${diff.from} and ${diff.to}`,
            )
          : h('p', {}, `Versions ${diff.from} and ${diff.to} hold the same data.`),
      );
    } catch (error) {
      result.replaceChildren(h('p', { role: 'alert' }, error instanceof ApiError ? error.describe() : (error as Error).message));
    }
  };
  if (list.versions.length > 1) void compare();
  return h(
    'section',
    {},
    h('h2', {}, 'Data versions'),
    table(
      ['Version', 'Source', 'By', 'When', 'Reason', 'Validation', 'Corrections'],
      list.versions.map((version) => [
        version.version === current ? h('strong', {}, `${version.version} (current)`) : String(version.version),
        version.source,
        version.submittedBy,
        dateTime(version.createdAt),
        version.reason ?? '—',
        version.ruleSetVersion ? `${version.errors} errors, ${version.warnings} warnings` : 'not validated',
        String(version.corrections),
      ]),
    ),
    list.versions.length > 1
      ? h(
          'form',
          {
            className: 'inline-form',
            onSubmit: (event: Event) => {
              event.preventDefault();
              void compare();
            },
          },
          field('Compare version', from),
          field('with version', to),
          h('button', { type: 'submit' }, 'Compare'),
        )
      : h('p', { className: 'muted' }, 'One data version so far: nothing to compare.'),
    result,
  );
}

function timelineSection(detail: CertificateDetail): HTMLElement {
  return h(
    'section',
    {},
    h('h2', {}, 'Timeline'),
    h(
      'ol',
      { className: 'timeline' },
      detail.history.map((transition) =>
        h(
          'li',
          {},
          h('time', { datetime: transition.at }, dateTime(transition.at)),
          ' ',
          transition.from === transition.to ? statusLabel(transition.to) : `${statusLabel(transition.from)} → ${statusLabel(transition.to)}`,
          ' · ',
          h('span', { className: 'actor' }, transition.actor),
          transition.note ? h('span', { className: 'muted' }, ` — ${transition.note}`) : null,
        ),
      ),
    ),
  );
}

function messagesSection(base: string, detail: CertificateDetail): HTMLElement {
  const status = h('p', { role: 'status', className: 'muted' });
  const get = (variant: 'signed' | 'unsigned', messageVersion: number) => async () => {
    status.textContent = 'Downloading…';
    try {
      status.textContent = `Downloaded ${await download(`${base}/message${query({ variant, messageVersion })}`)}.`;
    } catch (error) {
      status.textContent = error instanceof ApiError ? `Download refused: ${error.describe()}` : `Download failed: ${(error as Error).message}`;
    }
  };
  // A message version is regenerated when its data is corrected before delivery; the API serves the latest of each.
  const latest = new Map(detail.messages.map((message) => [message.messageVersion, message.iviReferenceId]));
  return h(
    'section',
    {},
    h('h2', {}, 'IVI messages'),
    detail.messages.length
      ? table(
          ['Message version', 'Data version', 'IVI reference', 'Generated', 'Signed', 'XML'],
          detail.messages.map((message) => [
            String(message.messageVersion),
            String(message.dataVersion),
            h('code', {}, message.iviReferenceId),
            dateTime(message.createdAt),
            message.signed ? dateTime(message.signedAt) : 'not yet',
            latest.get(message.messageVersion) === message.iviReferenceId
              ? h(
                  'span',
                  { className: 'buttons' },
                  h('button', { type: 'button', className: 'secondary', onClick: get('unsigned', message.messageVersion) }, `Generated XML v${message.messageVersion}`),
                  message.signed ? h('button', { type: 'button', className: 'secondary', onClick: get('signed', message.messageVersion) }, `Signed XML v${message.messageVersion}`) : null,
                )
              : h('span', { className: 'muted' }, 'superseded by a later generation'),
          ]),
        )
      : h('p', {}, 'No message generated yet.'),
    status,
  );
}

function receiptsSection(list: ReceiptList): HTMLElement {
  return h(
    'section',
    {},
    h('h2', {}, 'Delivery receipts'),
    list.receipts.length
      ? table(
          ['Destination', 'Kind', 'Reference', 'Message version', 'Batch', 'Delivered', 'Acknowledged'],
          list.receipts.map((receipt) => [receipt.destination, receipt.kind, h('code', {}, receipt.reference), String(receipt.messageVersion), receipt.batchId ?? '—', dateTime(receipt.deliveredAt), dateTime(receipt.acknowledgedAt)]),
        )
      : h('p', {}, 'Not delivered yet.'),
  );
}
