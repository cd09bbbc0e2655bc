import type { z } from 'zod';
import type { importReportSchema, typeApprovalListSchema } from '../../../schemas/api/type-approvals.ts';
import { ApiError, getJson, postJson, query } from '../api.ts';
import { field, h, table } from '../dom.ts';
import { dateTime, statusLabel } from '../format.ts';
import { certificateStatuses } from '../model.ts';
import { can, type Session } from '../session.ts';

type ApprovalList = z.infer<typeof typeApprovalListSchema>;
type ImportReport = z.infer<typeof importReportSchema>;

/** The approval page, optionally on one revision and one variant/version. */
export function approvalHref(typeApprovalId: string, parameters: Record<string, string | undefined> = {}): string {
  return `#/type-approvals/${encodeURIComponent(typeApprovalId)}${query(parameters)}`;
}

export function impactHref(revisionId: string): string {
  return `#/type-approvals/revisions/${encodeURIComponent(revisionId)}/impact`;
}

/** `2 in review, 1 acknowledged`, in lifecycle order. */
export function countsText(byStatus: Record<string, number>): string {
  const known = [...certificateStatuses, ...Object.keys(byStatus).filter((status) => !(certificateStatuses as readonly string[]).includes(status))];
  const parts = known.filter((status) => byStatus[status]).map((status) => `${byStatus[status]} ${statusLabel(status)}`);
  return parts.length ? parts.join(', ') : 'none';
}

const FORMATS = ['xlsx', 'csv', 'json'] as const;

/** The whole file as base64, as the import route takes it (spreadsheets are binary). */
async function base64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let start = 0; start < bytes.length; start += 0x8000) binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}

export async function typeApprovalsView(session: Session, parameters: URLSearchParams): Promise<HTMLElement> {
  const q = parameters.get('q') ?? '';
  const { approvals } = await getJson<ApprovalList>(`/api/v1/type-approvals${query({ q })}`);
  const search = h('input', { name: 'q', value: q, autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    {
      className: 'filters',
      role: 'search',
      onSubmit: (event: Event) => {
        event.preventDefault();
        location.hash = `#/type-approvals${query({ q: search.value.trim() })}`;
      },
    },
    field('Number or type', search, 'Part of the approval number or the type'),
    h('div', { className: 'field actions-row' }, h('button', { type: 'submit' }, 'Search'), h('a', { href: '#/type-approvals', className: 'button secondary' }, 'Clear')),
  );
  return h(
    'div',
    { className: 'type-approvals' },
    h('h1', { tabindex: '-1' }, 'Type approvals'),
    h('p', { className: 'muted' }, 'The approvals certificates are composed from: each published revision in effect from its date, drafts until a second person publishes them.'),
    form,
    h('p', { role: 'status' }, approvals.length === 0 ? 'No type approvals match.' : `${approvals.length} type approval${approvals.length === 1 ? '' : 's'}.`),
    approvals.length
      ? table(
          ['Manufacturer', 'Number', 'Type', 'Category', 'Published revision', 'Open draft', 'Versions', 'Revisions'],
          approvals.map((approval) => [
            approval.manufacturerId,
            h('a', { href: approvalHref(approval.id) }, approval.number),
            approval.type,
            approval.vehicleCategory,
            approval.published ? `${approval.published.sequence} · extension ${approval.published.extensionNumber} · effective ${approval.published.effectiveDate} · ${dateTime(approval.published.publishedAt)}` : 'none yet',
            approval.draft
              ? h('a', { href: approvalHref(approval.id, { revision: approval.draft.id }) }, `${approval.draft.sequence} · extension ${approval.draft.extensionNumber} · by ${approval.draft.draftedBy.join(', ')}`)
              : '—',
            String(approval.versions),
            String(approval.revisions),
          ]),
        )
      : null,
    can(session, 'typeApprovals.draft') ? importSection(session) : null,
  );
}

/** File picker → base64 → POST …/imports; the answer shown as it came: the saved draft, or the problems per cell. */
function importSection(session: Session): HTMLElement {
  const file = h('input', { type: 'file', name: 'file', accept: '.xlsx,.csv,.json', required: true });
  const own = session.me.manufacturers.filter((manufacturer) => manufacturer !== '*');
  // A credential for one manufacturer imports for it; otherwise the file's owner must be named.
  const manufacturer = own.length === 1 && !session.me.manufacturers.includes('*') ? null : h('input', { name: 'manufacturerId', required: true, autocomplete: 'off', list: 'import-manufacturers' });
  const dryRun = h('input', { type: 'checkbox', name: 'dryRun' });
  const result = h('div', { className: 'import-result', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Import');
  const form = h(
    'form',
    {
      className: 'action',
      onSubmit: async (event: Event) => {
        event.preventDefault();
        const chosen = file.files?.[0];
        const format = FORMATS.find((candidate) => chosen?.name.toLowerCase().endsWith(`.${candidate}`));
        if (!chosen || !format) {
          result.replaceChildren(h('p', { className: 'refusal shown', role: 'alert' }, 'Choose an .xlsx, .csv or .json file.'));
          return;
        }
        submit.disabled = true;
        result.replaceChildren(h('p', { className: 'muted' }, `Reading ${chosen.name}…`));
        try {
          const body = { format, content: await base64(chosen), fileName: chosen.name, dryRun: dryRun.checked, ...(manufacturer ? { manufacturerId: manufacturer.value.trim() } : {}) };
          result.replaceChildren(...importResult(chosen.name, await postJson<ImportReport>('/api/v1/type-approvals/imports', body)));
        } catch (error) {
          // 422 carries the report itself: the problems of the file, nothing stored.
          if (error instanceof ApiError && error.status === 422 && Array.isArray((error.problem as { problems?: unknown }).problems)) result.replaceChildren(...importResult(chosen.name, error.problem as unknown as ImportReport));
          else result.replaceChildren(h('p', { className: 'refusal shown', role: 'alert' }, error instanceof ApiError ? `Import refused (HTTP ${error.status}): ${error.describe()}` : `Import failed: ${(error as Error).message}`));
        } finally {
          submit.disabled = false;
        }
      },
    },
    field('Approval file', file, 'XLSX, CSV or JSON in the export layout; a file with problems stores nothing'),
    manufacturer ? [field('Manufacturer', manufacturer), h('datalist', { id: 'import-manufacturers' }, own.map((id) => h('option', { value: id })))] : null,
    h('div', { className: 'field checkbox' }, h('label', {}, dryRun, ' Check only, store nothing')),
    submit,
  );
  return h('section', { className: 'panel', 'aria-labelledby': 'import-heading' }, h('h2', { id: 'import-heading' }, 'Import an approval'), form, result);
}

function problemTable(rows: ImportReport['problems'], caption: string): HTMLElement {
  return table(
    ['Sheet', 'Row', 'Column', 'Field', 'Message'],
    rows.map((problem) => [problem.sheet ?? '—', problem.row === undefined ? '—' : String(problem.row), problem.column ?? '—', problem.field ? h('code', {}, problem.field) : '—', problem.message]),
    caption,
  );
}

function importResult(name: string, report: ImportReport): HTMLElement[] {
  const warnings = report.warnings.length ? problemTable(report.warnings, `${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}`) : null;
  if (report.status === 'rejected') {
    return [
      h('p', { className: 'refusal shown', role: 'alert' }, `${name}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}; nothing was stored.`),
      problemTable(report.problems, `Problems in ${name}`),
      ...(warnings ? [warnings] : []),
    ];
  }
  const summary = `${report.number ?? name}, ${report.versions ?? 0} version${report.versions === 1 ? '' : 's'}`;
  const saved = report.draft
    ? h('p', { className: 'flash', role: 'status' }, `${name} saved as draft revision ${report.draft.sequence} of ${summary}. `, h('a', { href: approvalHref(report.draft.typeApprovalId, { revision: report.draft.revisionId }) }, 'Open the draft'))
    : h('p', { className: 'flash', role: 'status' }, `${name} checked: ${summary}, no problems; nothing stored.`);
  return [saved, ...(warnings ? [warnings] : [])];
}
