import type { z } from 'zod';
import type { Dashboard } from '../../../schemas/api/console.ts';
import type { DemoResultView } from '../../../schemas/api/demo.ts';
import type { readinessOverviewSchema } from '../../../schemas/api/type-approvals.ts';
import { certificateStatuses } from '../model.ts';
import { getJson, postJson, query } from '../api.ts';
import { h, table } from '../dom.ts';
import { dateTime, duration, percent, statusLabel } from '../format.ts';
import { can, type Session } from '../session.ts';
import { actionForm, refusalBox } from './forms.ts';
import { approvalHref } from './type-approvals.ts';

type ReadinessOverview = z.infer<typeof readinessOverviewSchema>;

export async function dashboardView(session: Session): Promise<HTMLElement> {
  const [data, approvals] = await Promise.all([
    getJson<Dashboard>('/api/v1/console/dashboard'),
    can(session, 'typeApprovals.view') ? getJson<ReadinessOverview>('/api/v1/type-approvals/readiness') : Promise.resolve(null),
  ]);
  const now = new Date(data.generatedAt).getTime();
  const blocked = data.counts.filter((row) => row.status === 'blocked').reduce((sum, row) => sum + row.count, 0);
  const ready = data.counts.filter((row) => row.status === 'awaiting_release').reduce((sum, row) => sum + row.count, 0);
  return h(
    'div',
    { className: 'dashboard' },
    h('h1', { tabindex: '-1' }, 'Dashboard'),
    data.counts.length === 0 && can(session, 'demo.load') ? demoLoader() : null,
    h('p', { className: 'muted' }, `Manufacturers: ${data.manufacturers.join(', ')} · as of ${dateTime(data.generatedAt)}`),
    h(
      'div',
      { className: 'tiles' },
      tile('In review', String(data.review.waiting), data.review.overdue ? `${data.review.overdue} overdue` : 'none overdue', data.review.overdue > 0, '#/queue/my-reviews'),
      tile('Blocked', String(blocked), 'by error findings', blocked > 0, '#/queue/blocked'),
      tile('Ready to release', String(ready), 'signed, awaiting release', false, '#/queue/ready-to-release'),
      tile('Validated before XML generation', percent(data.validation.share), `${data.validation.validatedFirst} of ${data.validation.generatedMessages} generated messages`, data.validation.share !== null && data.validation.share < 1),
      signingTile(data.signingCertificate),
    ),
    h('section', {}, h('h2', {}, 'Certificates by state'), stateTable(data)),
    h('section', {}, h('h2', {}, 'Review backlog'), backlog(data, now)),
    approvals ? h('section', {}, h('h2', {}, 'Type approvals'), approvalReadiness(approvals)) : null,
    h('section', {}, h('h2', {}, 'Releases'), releases(data)),
    h('section', {}, h('h2', {}, 'Destinations'), destinations(data)),
  );
}

/** An empty installation's admin can load the demo (as `ecoc demo`); its keys are shown here once. */
function demoLoader(): HTMLElement {
  const refusal = refusalBox();
  const result = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = actionForm(
    'Load demo data',
    refusal,
    async () => {
      result.textContent = 'Loading the demo (25 vehicles through their lifecycle, up to a few minutes)…';
      const demo = await postJson<DemoResultView>('/api/v1/demo');
      result.replaceChildren(
        h('p', {}, `Loaded approval ${demo.typeApproval.number} of ${demo.manufacturerId}. Reload the dashboard to see its certificates.`),
        ...(demo.keys
          ? [h('p', {}, 'API keys, shown this once: keep the ones you need.'), table(['Role', 'API key'], Object.entries(demo.keys).map(([role, key]) => [role, h('code', {}, key)]))]
          : [h('p', {}, 'The demo was loaded before; its keys were shown then.')]),
      );
      return '';
    },
    () => form.remove(),
  );
  return h('section', {}, h('h2', {}, 'Empty installation'), h('p', {}, 'Load a demo manufacturer, a type approval, an API key per role and 25 vehicles in varied states.'), form, refusal, result);
}

/** Where certificates can go; the embedded NAP simulator says in its description that it is one. */
function destinations(data: Dashboard): HTMLElement {
  if (data.destinations.length === 0) return h('p', {}, 'No destinations configured (ECOC_DESTINATIONS_FILE): certificates cannot be delivered.');
  return table(
    ['Destination', 'Kind', 'What it is'],
    data.destinations.map((destination) => [destination.id, destination.kind, destination.description ?? '—']),
  );
}

/** Per approval: its certificates, how many delivered, how many blocked (one call, one grouped query). */
function approvalReadiness({ approvals }: ReadinessOverview): HTMLElement {
  if (approvals.length === 0) return h('p', {}, 'No type approvals in the master data: every certificate carries all its values itself. ', h('a', { href: '#/type-approvals' }, 'Import one'));
  return table(
    ['Approval', 'Manufacturer', 'Certificates', 'Delivered', 'Blocked', 'In review'],
    approvals.map((approval) => [
      h('a', { href: approvalHref(approval.typeApprovalId) }, approval.number),
      approval.manufacturerId,
      String(approval.certificates),
      approval.certificates && approval.delivered === approval.certificates ? `${approval.delivered} (all)` : String(approval.delivered),
      approval.blocked ? h('span', { className: 'overdue' }, String(approval.blocked)) : '0',
      String(approval.inReview),
    ]),
  );
}

function tile(label: string, value: string, note: string, alert: boolean, href?: string): HTMLElement {
  const body = [h('span', { className: 'tile-label' }, label), h('strong', { className: 'tile-value' }, value), h('span', { className: 'tile-note' }, note)];
  return h('div', { className: `tile${alert ? ' alert' : ''}` }, href ? h('a', { href }, body) : body);
}

function signingTile(signing: Dashboard['signingCertificate']): HTMLElement {
  if (!signing) return tile('Signing certificate', '—', 'not watched by this API process (ECOC_SIGNING_CERT_FILE)', false);
  const value = signing.daysToExpiry >= 0 ? `${signing.daysToExpiry} days` : 'expired';
  return h('div', { className: `tile${signing.state === 'valid' ? '' : ' alert'}`, title: signing.message }, [
    h('span', { className: 'tile-label' }, 'Signing certificate'),
    h('strong', { className: 'tile-value' }, value),
    h('span', { className: 'tile-note' }, `${signing.state.replace(/_/g, ' ')} · until ${dateTime(signing.notAfter)}`),
  ]);
}

function stateTable(data: Dashboard): HTMLElement {
  if (data.counts.length === 0) return h('p', {}, 'No certificates yet.');
  const present = certificateStatuses.filter((status) => data.counts.some((row) => row.status === status));
  const groups = new Map<string, { manufacturerId: string; destination: string | null; counts: Map<string, number> }>();
  for (const row of data.counts) {
    const key = `${row.manufacturerId}\u0000${row.destination ?? ''}`;
    const group = groups.get(key) ?? { manufacturerId: row.manufacturerId, destination: row.destination, counts: new Map() };
    group.counts.set(row.status, row.count);
    groups.set(key, group);
  }
  return table(
    ['Manufacturer', 'Destination', ...present.map(statusLabel), 'Total'],
    [...groups.values()].map((group) => [
      group.manufacturerId,
      group.destination ?? '—',
      ...present.map((status) => {
        const count = group.counts.get(status) ?? 0;
        return count ? h('a', { href: `#/queue/all${query({ status, destination: group.destination })}`, 'aria-label': `${count} ${statusLabel(status)} for ${group.manufacturerId} to ${group.destination ?? 'no destination'}` }, String(count)) : '0';
      }),
      String([...group.counts.values()].reduce((sum, count) => sum + count, 0)),
    ]),
  );
}

function backlog(data: Dashboard, now: number): HTMLElement {
  const { review } = data;
  if (review.waiting === 0) return h('p', {}, 'Nothing waits for review.');
  return h(
    'div',
    {},
    h('p', {}, `${review.waiting} waiting, ${review.overdue} overdue; the oldest since ${dateTime(review.oldestWaitingSince)}.`),
    table(
      ['VIN', 'Manufacturer', 'Type approval', 'Owner', 'Waiting', 'Deadline'],
      review.items.map((item) => [
        h('a', { href: `#/certificates/${item.id}` }, item.vin),
        item.manufacturerId,
        item.typeApprovalNumber,
        item.owner ?? 'unassigned',
        duration(now - new Date(item.waitingSince).getTime()),
        item.reviewDeadline
          ? h('span', { className: item.overdue ? 'overdue' : '' }, item.overdue ? `overdue by ${duration(now - new Date(item.reviewDeadline).getTime())}` : `in ${duration(new Date(item.reviewDeadline).getTime() - now)}`, ` (${dateTime(item.reviewDeadline)})`)
          : '—',
      ]),
    ),
  );
}

function releases(data: Dashboard): HTMLElement {
  const { releases } = data;
  const note = releases.note ? h('p', { className: 'muted' }, releases.note) : null;
  if (!releases.visible || releases.schedules.length === 0) return h('div', {}, note);
  return h(
    'div',
    {},
    note,
    table(
      ['Destination', 'Schedule', 'Last run', 'Result', 'Next run'],
      releases.schedules.map((schedule) => [
        schedule.destination,
        schedule.paused ? 'paused' : 'active',
        schedule.lastRun ? `${dateTime(schedule.lastRun.startedAt)} (${schedule.lastRun.status.toLowerCase()})` : 'never ran',
        schedule.lastRun
          ? schedule.lastRun.outcome === 'released'
            ? h('span', { className: schedule.lastRun.failed ? 'overdue' : '' }, `${schedule.lastRun.delivered} delivered, ${schedule.lastRun.failed} failed`)
            : (schedule.lastRun.note ?? schedule.lastRun.outcome ?? '—')
          : '—',
        dateTime(schedule.nextRun),
      ]),
    ),
  );
}
