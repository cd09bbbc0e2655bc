import type { z } from 'zod';
import type {
  readinessSchema,
  revisionContentSchema,
  revisionDiffSchema,
  savedDraftSchema,
  typeApprovalDetailSchema,
  publishResultSchema,
} from '../../../schemas/api/type-approvals.ts';
import { leafValues } from '../../../ivi/leaf-values.ts';
import { getJson, postJson, query } from '../api.ts';
import { leafLabel } from '../coc-sections.ts';
import { fact, field, h, table } from '../dom.ts';
import { dateTime, displayValue, humanize, statusBadge } from '../format.ts';
import { can, type Session } from '../session.ts';
import type { CertificatePageHooks } from './certificate.ts';
import { actionForm, refusalBox, typedValue } from './forms.ts';
import { approvalHref, countsText, impactHref } from './type-approvals.ts';

type Detail = z.infer<typeof typeApprovalDetailSchema>;
type Revision = Detail['revisions'][number];
type Content = z.infer<typeof revisionContentSchema>;
type Diff = z.infer<typeof revisionDiffSchema>;
type Readiness = z.infer<typeof readinessSchema>;

export interface PageHooks extends Pick<CertificatePageHooks, 'refresh' | 'message'> {
  /** Shows another route with a message (an opened draft is a new revision to show). */
  go(href: string, message: string): void;
}

/**
 * One approval: its revisions, the selected revision's variants/versions and values (editable in
 * a draft), the diff between two revisions, publishing (four-eyes) and readiness per vehicle group.
 * Route: `#/type-approvals/<id>?revision=&variant=&version=&against=`.
 */
export async function typeApprovalView(session: Session, typeApprovalId: string, parameters: URLSearchParams, hooks: PageHooks): Promise<HTMLElement> {
  const base = `/api/v1/type-approvals/${encodeURIComponent(typeApprovalId)}`;
  const [detail, readiness] = await Promise.all([getJson<Detail>(base), getJson<Readiness>(`${base}/readiness`)]);
  const selected = detail.revisions.find((revision) => revision.id === parameters.get('revision')) ?? detail.revisions[0]!;
  const revisionBase = `/api/v1/type-approvals/revisions/${encodeURIComponent(selected.id)}`;
  const against = parameters.get('against') ?? undefined;
  const [content, diff] = await Promise.all([
    getJson<Content>(revisionBase),
    // The first revision has nothing to compare with.
    detail.revisions.length > 1 ? getJson<Diff>(`${revisionBase}/diff${query({ against })}`) : Promise.resolve(null),
  ]);
  const version = content.approval.versions.find((candidate) => candidate.variant === parameters.get('variant') && candidate.version === parameters.get('version')) ?? content.approval.versions[0]!;
  const here = (next: Record<string, string | undefined>) => approvalHref(typeApprovalId, { revision: selected.id, variant: version.variant, version: version.version, against, ...next });
  const { approval } = content;
  const published = detail.revisions.find((revision) => revision.status === 'published');
  return h(
    'div',
    { className: 'type-approval' },
    h('p', { className: 'breadcrumb' }, h('a', { href: '#/type-approvals' }, 'Type approvals'), ' › ', detail.number),
    h('h1', { tabindex: '-1' }, `${detail.number} · revision ${selected.sequence} `, statusBadge(selected.status)),
    h('p', { className: 'flash', role: 'status' }, hooks.message ?? ''),
    h(
      'dl',
      { className: 'facts' },
      fact('Manufacturer', detail.manufacturerId),
      fact('Type', `${approval.type} · category ${approval.vehicleCategory} · ${approval.typeApprovalType}`),
      fact('Base act', approval.baseAct ?? '—'),
      fact('Issued', `${approval.issueDate} by ${approval.approvalCountry}`),
      fact('Revision', `${selected.sequence} · extension ${selected.extensionNumber} · effective ${selected.effectiveDate} · ${selected.reason}`),
      fact('In effect', published ? `revision ${published.sequence} (extension ${published.extensionNumber}), published by ${published.publishedBy ?? '—'}` : 'nothing published yet: certificates do not use this approval'),
    ),
    actionsSection(session, detail, selected, hooks),
    revisionsSection(detail, selected, here),
    diff ? diffSection(detail, selected, diff, here) : null,
    readinessSection(detail, readiness),
    // Last: one version alone has hundreds of values.
    versionsSection(session, content, version, here, hooks),
  );
}

/** Open a draft (when none is open) and publish the selected draft: what the caller's roles allow. */
function actionsSection(session: Session, detail: Detail, selected: Revision, hooks: PageHooks): HTMLElement | null {
  const refusal = refusalBox();
  const forms: HTMLElement[] = [];
  const open = detail.revisions.find((revision) => revision.status === 'draft');
  if (can(session, 'typeApprovals.draft') && !open) {
    const extensionNumber = h('input', { name: 'extensionNumber', required: true, autocomplete: 'off' });
    const effectiveDate = h('input', { name: 'effectiveDate', type: 'date', required: true });
    const reason = h('textarea', { name: 'reason', required: true, rows: '2' });
    let opened = '';
    forms.push(
      actionForm(
        'Open a draft',
        refusal,
        async () => {
          const draft = await postJson<Pick<z.infer<typeof savedDraftSchema>, 'revisionId' | 'sequence'>>(`/api/v1/type-approvals/${encodeURIComponent(detail.id)}/drafts`, {
            extensionNumber: extensionNumber.value.trim(),
            effectiveDate: effectiveDate.value,
            reason: reason.value.trim(),
          });
          opened = approvalHref(detail.id, { revision: draft.revisionId });
          return `Draft revision ${draft.sequence} opened from the newest revision; change its values below, then someone else publishes it.`;
        },
        (message) => hooks.go(opened, message),
        field('Extension number', extensionNumber, 'As the authority numbers it, e.g. 02'),
        field('Effective from', effectiveDate),
        field('Reason', reason),
      ),
    );
  }
  if (can(session, 'typeApprovals.publish') && selected.status === 'draft') {
    forms.push(
      actionForm(
        `Publish revision ${selected.sequence}`,
        refusal,
        async () => {
          const result = await postJson<z.infer<typeof publishResultSchema>>(`/api/v1/type-approvals/revisions/${encodeURIComponent(selected.id)}/publish`);
          return `Published revision ${result.revision.sequence} by ${result.revision.publishedBy ?? 'you'}; its change impact runs as workflow ${result.impactWorkflowId}.`;
        },
        (message) => hooks.refresh(message),
        h('p', { className: 'muted' }, `Drafted by ${selected.draftedBy.join(', ')}: four-eyes, one of them cannot publish it.`),
      ),
    );
  }
  if (forms.length === 0) return null;
  return h('section', { className: 'panel actions', 'aria-labelledby': 'actions-heading' }, h('h2', { id: 'actions-heading' }, 'Actions'), refusal, h('div', { className: 'action-forms' }, forms));
}

function revisionsSection(detail: Detail, selected: Revision, here: (next: Record<string, string | undefined>) => string): HTMLElement {
  return h(
    'section',
    {},
    h('h2', {}, 'Revisions'),
    table(
      ['Revision', 'Extension', 'Status', 'Effective', 'Reason', 'Drafted by', 'Published', 'Impact'],
      detail.revisions.map((revision) => [
        revision.id === selected.id ? h('strong', { 'aria-current': 'true' }, String(revision.sequence)) : h('a', { href: here({ revision: revision.id, against: undefined }), 'aria-label': `Revision ${revision.sequence}` }, String(revision.sequence)),
        revision.extensionNumber,
        statusBadge(revision.status),
        revision.effectiveDate,
        revision.reason,
        revision.draftedBy.join(', '),
        revision.publishedBy ? `${revision.publishedBy} at ${dateTime(revision.publishedAt)}` : '—',
        revision.status === 'published' ? h('a', { href: impactHref(revision.id), 'aria-label': `Impact of revision ${revision.sequence}` }, 'Impact') : '—',
      ]),
      'Newest first',
    ),
  );
}

/** The variants/versions of the revision, and the values of the one selected (editable one at a time in a draft). */
function versionsSection(session: Session, content: Content, selected: Content['approval']['versions'][number], here: (next: Record<string, string | undefined>) => string, hooks: Pick<CertificatePageHooks, 'refresh'>): HTMLElement {
  const { revision, approval } = content;
  const leaves = leafValues(selected.values);
  const editable = revision.status === 'draft' && can(session, 'typeApprovals.draft');
  const path = h('input', { name: 'path', required: true, list: 'version-leaf-paths', autocomplete: 'off', spellcheck: 'false' });
  const value = h('input', { name: 'value', autocomplete: 'off' });
  const refusal = refusalBox();
  const edit = editable
    ? h(
        'section',
        { className: 'panel', 'aria-labelledby': 'edit-heading' },
        h('h3', { id: 'edit-heading' }, `Change a value of ${selected.variant} / ${selected.version}`),
        refusal,
        actionForm(
          'Save value',
          refusal,
          async () => {
            const result = await postJson<{ path: string; value: unknown }>(`/api/v1/type-approvals/revisions/${encodeURIComponent(revision.id)}/values`, {
              variant: selected.variant,
              version: selected.version,
              path: path.value.trim(),
              value: typedValue(value.value, leaves.get(path.value.trim())),
            });
            return result.value === null ? `Removed ${result.path} from ${selected.version}.` : `Saved ${result.path} = ${displayValue(result.value)} for ${selected.version}.`;
          },
          (message) => hooks.refresh(message),
          field('Field path', path, 'As in the table, e.g. CocDataGroup/MassGroup/MassInRunningOrder'),
          h('datalist', { id: 'version-leaf-paths' }, [...leaves.keys()].map((leaf) => h('option', { value: leaf }))),
          field('New value', value, 'Checked against the IVI field type; leave empty to remove the field'),
        ),
      )
    : null;
  const pick = (leaf: string) => {
    path.value = leaf;
    value.value = String(leaves.get(leaf) ?? '');
    value.focus();
    value.select();
  };
  return h(
    'section',
    {},
    h('h2', {}, `Variants and versions of revision ${revision.sequence}`),
    table(
      ['Variant', 'Version', 'Values'],
      approval.versions.map((version) => {
        const current = version.variant === selected.variant && version.version === selected.version;
        return [
          version.variant,
          current ? h('strong', { 'aria-current': 'true' }, version.version) : h('a', { href: here({ variant: version.variant, version: version.version }) }, version.version),
          String(leafValues(version.values).size),
        ];
      }),
    ),
    h('h3', {}, `Values of ${selected.variant} / ${selected.version}`),
    edit,
    h(
      'div',
      { className: 'version-values' },
      table(
        ['Field', 'Path', 'Value', ...(editable ? ['Change'] : [])],
        [...leaves].map(([leaf, current]) => [
          leafLabel(leaf, humanize),
          h('code', {}, leaf),
          displayValue(current),
          ...(editable ? [h('button', { type: 'button', className: 'link', 'aria-label': `Change ${leafLabel(leaf, humanize)}`, onClick: () => pick(leaf) }, 'Change')] : []),
        ]),
      ),
    ),
  );
}

function diffSection(detail: Detail, selected: Revision, diff: Diff, here: (next: Record<string, string | undefined>) => string): HTMLElement {
  const label = (revision: Revision) => `${revision.sequence} · extension ${revision.extensionNumber} (${revision.status})`;
  const choices = (chosen: string | undefined) => detail.revisions.map((revision) => h('option', { value: revision.id, selected: revision.id === chosen }, label(revision)));
  const from = h('select', { name: 'against' }, choices(diff.from?.id));
  const to = h('select', { name: 'to' }, choices(selected.id));
  const rows = [
    ...diff.approval.map((change) => ['approval', '', '', h('code', {}, change.path), displayValue(change.from), displayValue(change.to)]),
    ...diff.versions.flatMap((version) =>
      (version.fields.length ? version.fields : [null]).map((change) => [
        version.variant,
        version.version,
        version.change,
        change ? h('code', {}, change.path) : '—',
        change ? displayValue(change.from) : '—',
        change ? displayValue(change.to) : '—',
      ]),
    ),
  ];
  return h(
    'section',
    { className: 'diff' },
    h('h2', {}, 'What changed'),
    h(
      'form',
      {
        className: 'inline-form',
        onSubmit: (event: Event) => {
          event.preventDefault();
          location.hash = here({ revision: to.value, against: from.value, variant: undefined, version: undefined });
        },
      },
      field('From revision', from),
      field('To revision', to),
      h('button', { type: 'submit', className: 'secondary' }, 'Compare'),
    ),
    h('p', { className: 'muted' }, diff.from ? `From revision ${diff.from.sequence} to revision ${diff.to.sequence}.` : `Revision ${diff.to.sequence} against nothing published before it.`),
    rows.length ? table(['Variant', 'Version', 'Change', 'Field', 'Old', 'New'], rows) : h('p', {}, 'No differences.'),
  );
}

function readinessSection(detail: Detail, readiness: Readiness): HTMLElement {
  const queue = `#/queue/all${query({ typeApprovalNumber: detail.number })}`;
  return h(
    'section',
    { className: 'readiness' },
    h('h2', {}, 'Readiness per vehicle group'),
    h('p', {}, `${readiness.total} certificate${readiness.total === 1 ? '' : 's'}: ${countsText(readiness.byStatus)}. `, readiness.total ? h('a', { href: queue }, 'Show them') : null),
    readiness.versions.length
      ? table(
          ['Variant', 'Version', 'Certificates', 'By state', 'Blocking rules', 'Ready'],
          readiness.versions.map((group) => [
            group.variant,
            group.version,
            String(group.total),
            countsText(group.byStatus),
            group.blockingRules.length ? group.blockingRules.map((rule) => h('span', { className: 'rule' }, h('code', {}, rule.code), ` ×${rule.certificates} `)) : '—',
            group.ready ? 'yes, all delivered' : 'no',
          ]),
        )
      : h('p', { className: 'muted' }, 'No certificates of this approval yet.'),
  );
}
