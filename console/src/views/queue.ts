import type { Queue, QueuePage } from '../../../schemas/api/console.ts';
import { certificateStatuses } from '../model.ts';
import { getJson, query } from '../api.ts';
import { field, h, options, table } from '../dom.ts';
import { dateTime, statusBadge } from '../format.ts';
import { workflowUrl, type Session } from '../session.ts';

export const queueTitles: Record<Queue, string> = {
  'my-reviews': 'My reviews',
  blocked: 'Blocked',
  'ready-to-release': 'Ready to release',
  all: 'All certificates',
};

const descriptions: Record<Queue, string> = {
  'my-reviews': 'In review, assigned to you or to nobody.',
  blocked: 'Stopped by error findings: the findings say what to fix and who owns it.',
  'ready-to-release': 'Signed and waiting for the next release to their destination.',
  all: 'Every certificate in your manufacturers, oldest state change first.',
};

const FILTERS = ['vin', 'typeApprovalNumber', 'status', 'destination'] as const;

export function isQueue(name: string): name is Queue {
  return name in queueTitles;
}

export async function queueView(session: Session, queue: Queue, parameters: URLSearchParams): Promise<HTMLElement> {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, parameters.get(name) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const after = parameters.get('after') ?? '';
  const page = await getJson<QueuePage>(`/api/v1/console/queue${query({ queue, ...filters, after, limit: parameters.get('limit') })}`);

  const vin = h('input', { name: 'vin', value: filters.vin, autocomplete: 'off', spellcheck: 'false' });
  const typeApprovalNumber = h('input', { name: 'typeApprovalNumber', value: filters.typeApprovalNumber, autocomplete: 'off', spellcheck: 'false' });
  const status = h('select', { name: 'status' }, options(certificateStatuses, filters.status, 'any state'));
  const destination = h('input', { name: 'destination', value: filters.destination, autocomplete: 'off' });
  const form = h(
    'form',
    {
      className: 'filters',
      role: 'search',
      onSubmit: (event: Event) => {
        event.preventDefault();
        location.hash = `#/queue/${queue}${query({ vin: vin.value.trim(), typeApprovalNumber: typeApprovalNumber.value.trim(), status: status.value, destination: destination.value.trim() })}`;
      },
    },
    field('VIN', vin, 'Part of a VIN is enough'),
    field('Type-approval number', typeApprovalNumber),
    field('State', status),
    field('Destination', destination),
    h('div', { className: 'field actions-row' }, h('button', { type: 'submit' }, 'Filter'), h('a', { href: `#/queue/${queue}`, className: 'button secondary' }, 'Clear')),
  );

  const rows = page.items.map((item) => [
    h('a', { href: `#/certificates/${item.id}` }, item.vin),
    String(item.stage),
    item.manufacturerId,
    item.typeApprovalNumber,
    statusBadge(item.status),
    item.destination ?? '—',
    item.owner ?? 'unassigned',
    dateTime(item.statusChangedAt),
    item.reviewDeadline ? h('span', { className: new Date(item.reviewDeadline).getTime() < Date.now() ? 'overdue' : '' }, dateTime(item.reviewDeadline)) : '—',
    item.blocking.length
      ? h('ul', { className: 'findings-inline' }, item.blocking.map((finding) => h('li', {}, h('code', {}, finding.ruleId), ` ${finding.message} `, h('span', { className: 'muted' }, `(${finding.path}; owner ${finding.owner})`))))
      : '—',
    h('a', { href: workflowUrl(session, item.id), target: '_blank', rel: 'noopener noreferrer', 'aria-label': `Workflow of ${item.vin} in the Temporal UI (opens a new tab)` }, 'Workflow ↗'),
  ]);
  const here = `#/queue/${queue}${query(filters)}`;
  return h(
    'div',
    { className: 'queue' },
    h('h1', { tabindex: '-1' }, queueTitles[queue]),
    h('p', { className: 'muted' }, descriptions[queue]),
    form,
    h('p', { role: 'status' }, page.total === 0 ? 'No certificates match.' : `${page.total} certificate${page.total === 1 ? '' : 's'} match; showing ${page.items.length}${after ? ' (a later page)' : ''}.`),
    page.items.length ? table(['VIN', 'Stage', 'Manufacturer', 'Type approval', 'State', 'Destination', 'Owner', 'Since', 'Review deadline', 'Blocking findings', 'Temporal'], rows) : null,
    h(
      'nav',
      { className: 'pager', 'aria-label': 'Pages' },
      after ? h('a', { href: here }, '« First page') : null,
      page.nextCursor ? h('a', { href: `#/queue/${queue}${query({ ...filters, after: page.nextCursor })}` }, 'Next page »') : null,
    ),
  );
}

