import { Prisma } from '../../.generated/prisma/client.ts';
import { rolesFor } from '../../auth/permissions.ts';
import { actorOf, mayUseHubWide, seesAllManufacturers, type Principal } from '../../auth/principal.ts';
import { loadDestinations } from '../../connectors/delivery/destinations.ts';
import { describeReleaseSchedule, listReleaseSchedules } from '../../releases/service.ts';
import { consoleSettingsSchema, dashboardSchema, queuePageSchema, queueQuerySchema, type Dashboard, type Queue } from '../../schemas/api/console.ts';
import type { Config } from '../../schemas/config/index.ts';
import type { ApiContext, RouteModule } from '../context.ts';
import { HttpProblem } from '../problem.ts';
import type { StoredFinding } from './certificates/history.ts';
import { summary } from './certificates/view.ts';
import { textProblem } from '../../schemas/text-rule.ts';

const REVIEW_ITEMS = 50;

export function temporalUiUrl(config: Config): string {
  return (config.ECOC_TEMPORAL_UI_URL ?? `http://localhost:${config.ECOC_TEMPORAL_UI_PORT}`).replace(/\/+$/, '');
}

/**
 * Read models the web console needs beyond the resource routes (`/api/v1/console/*`): settings,
 * dashboard aggregates, work queues. A certificate's data versions, diff and receipts are
 * certificate routes (routes/certificates/history.ts). Same authentication and manufacturer
 * scope as every other route; other clients may use them too.
 */
export const consoleRoutes: RouteModule = (table, context) => {
  const { db, config } = context;

  table.add({
    method: 'get',
    path: '/api/v1/console/settings',
    operationId: 'consoleSettings',
    summary: 'Settings the console needs: where the Temporal Web UI is',
    tag: 'console',
    access: 'authenticated',
    responses: { 200: { description: 'Settings', schema: consoleSettingsSchema } },
    handler({ res }) {
      res.json({ temporalUi: { url: temporalUiUrl(config), namespace: config.TEMPORAL_NAMESPACE } });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/console/dashboard',
    operationId: 'consoleDashboard',
    summary: 'Where certificates stand: counts by state per manufacturer and destination, validation share, review backlog, signing certificate, releases',
    tag: 'console',
    access: 'authenticated',
    responses: { 200: { description: 'Dashboard figures within your manufacturers', schema: dashboardSchema } },
    async handler({ req, res, principal }) {
      const [counts, validation, review, releases, destinations] = await Promise.all([
        stateCounts(db, principal),
        validationShare(db, principal),
        reviewBacklog(db, principal),
        releaseSummary(context, principal, req.id),
        loadDestinations(config.ECOC_DESTINATIONS_FILE),
      ]);
      const signing = context.signingCertificate?.();
      const dashboard: Dashboard = {
        generatedAt: new Date().toISOString(),
        manufacturers: principal.manufacturers,
        counts,
        validation,
        review,
        signingCertificate: signing
          ? { state: signing.state, subject: signing.subject, notAfter: signing.notAfter, daysToExpiry: signing.daysToExpiry, message: signing.message }
          : null,
        destinations: destinations.map(({ id, kind, description }) => ({ id, kind, description: description ?? null })),
        releases,
      };
      res.json(dashboard);
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/console/queue',
    operationId: 'consoleQueue',
    summary: 'A work queue (my reviews, blocked, ready to release, all) with filters, oldest state change first',
    description: 'Keyset pagination: pass nextCursor as `after`. Blocked items carry the error findings that block them.',
    tag: 'console',
    access: 'authenticated',
    query: queueQuerySchema,
    responses: { 200: { description: 'One page', schema: queuePageSchema } },
    async handler({ res, query, principal }) {
      const where: Prisma.CertificateWhereInput = {
        AND: [
          scope(principal),
          queueFilter(query.queue, principal),
          query.vin ? { vin: { contains: likeLiteral(query.vin), mode: 'insensitive' } } : {},
          query.typeApprovalNumber ? { typeApprovalNumber: { contains: likeLiteral(query.typeApprovalNumber), mode: 'insensitive' } } : {},
          query.status ? { status: query.status } : {},
          query.destination ? { destination: query.destination } : {},
        ],
      };
      const after = query.after ? parseCursor(query.after) : undefined;
      const [rows, total] = await Promise.all([
        db.certificate.findMany({
          where: after ? { AND: [where, { OR: [{ statusChangedAt: { gt: after.at } }, { statusChangedAt: after.at, id: { gt: after.id } }] }] } : where,
          orderBy: [{ statusChangedAt: 'asc' }, { id: 'asc' }],
          take: query.limit + 1,
        }),
        db.certificate.count({ where }),
      ]);
      const page = rows.slice(0, query.limit);
      const versions = page.length
        ? await db.certificateDataVersion.findMany({
            where: { OR: page.map((row) => ({ certificateId: row.id, version: row.dataVersion })) },
            select: { certificateId: true, findings: true },
          })
        : [];
      const blocking = new Map(versions.map((version) => [version.certificateId, ((version.findings ?? []) as unknown as StoredFinding[]).filter((finding) => finding.severity === 'error')]));
      const last = page.at(-1);
      res.json(
        queuePageSchema.parse({
          items: page.map((row) => ({
            ...summary(row),
            blocking: (blocking.get(row.id) ?? []).map(({ ruleId, path, message, owner }) => ({ ruleId, path, message, owner })),
          })),
          total,
          nextCursor: rows.length > query.limit && last ? cursor(last.statusChangedAt, last.id) : null,
        }),
      );
    },
  });
};

/**
 * A search text as the literal it is: Prisma's `contains` becomes ILIKE '%text%' without escaping,
 * so `%` and `_` would match anything. PostgreSQL's LIKE escape character is the backslash.
 */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function scope(principal: Principal): Prisma.CertificateWhereInput {
  return seesAllManufacturers(principal) ? {} : { manufacturerId: { in: principal.manufacturers } };
}

function scopeSql(principal: Principal, column: Prisma.Sql): Prisma.Sql {
  return seesAllManufacturers(principal) ? Prisma.sql`TRUE` : Prisma.sql`${column} = ANY(${principal.manufacturers})`;
}

export function queueFilter(queue: Queue, principal: Principal): Prisma.CertificateWhereInput {
  switch (queue) {
    case 'my-reviews':
      // The subject is normalised (auth/principal.ts); an owner typed in by hand may differ in case.
      return { status: 'in_review', OR: [{ owner: { equals: principal.subject, mode: 'insensitive' } }, { owner: null }] };
    case 'blocked':
      return { status: 'blocked' };
    case 'ready-to-release':
      return { status: 'awaiting_release' };
    case 'all':
      return {};
  }
}

/** Opaque to clients: the last row's state-change time and id. */
function cursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

function parseCursor(text: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(at);
    // The id goes into a query: the shared text rule, as for every other input.
    if (typeof id === 'string' && textProblem(id, 100) === undefined && !Number.isNaN(date.getTime())) return { at: date, id };
  } catch {
    // reported below
  }
  throw new HttpProblem(400, 'invalid_request', 'The request query is invalid', { errors: [{ path: 'after', message: 'not a cursor from a previous page' }] });
}

async function stateCounts(db: ApiContext['db'], principal: Principal): Promise<Dashboard['counts']> {
  const rows = await db.certificate.groupBy({ by: ['manufacturerId', 'destination', 'status'], where: scope(principal), _count: { _all: true } });
  return rows
    .map((row) => ({ manufacturerId: row.manufacturerId, destination: row.destination, status: row.status as Dashboard['counts'][number]['status'], count: row._count._all }))
    .sort((a, b) => a.manufacturerId.localeCompare(b.manufacturerId) || (a.destination ?? '').localeCompare(b.destination ?? ''));
}

/**
 * Evidence, not assumption: a message counts as validated first when the data version it was
 * generated from carries the rule set's findings and none of them is an error.
 */
async function validationShare(db: ApiContext['db'], principal: Principal): Promise<Dashboard['validation']> {
  const [row] = await db.$queryRaw<{ generated: bigint; validated: bigint }[]>`
    SELECT count(*) AS generated,
           count(*) FILTER (WHERE dv.rule_set_version IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(dv.findings, '[]'::jsonb)) f WHERE f->>'severity' = 'error')) AS validated
    FROM certificate_message m
    JOIN certificate c ON c.id = m.certificate_id
    LEFT JOIN certificate_data_version dv ON dv.certificate_id = m.certificate_id AND dv.version = m.data_version
    WHERE ${scopeSql(principal, Prisma.sql`c.manufacturer_id`)}`;
  const generatedMessages = Number(row?.generated ?? 0);
  const validatedFirst = Number(row?.validated ?? 0);
  return { generatedMessages, validatedFirst, share: generatedMessages ? validatedFirst / generatedMessages : null };
}

async function reviewBacklog(db: ApiContext['db'], principal: Principal): Promise<Dashboard['review']> {
  const where: Prisma.CertificateWhereInput = { AND: [scope(principal), { status: 'in_review' }] };
  const now = new Date();
  const [waiting, overdue, oldest, items] = await Promise.all([
    db.certificate.count({ where }),
    db.certificate.count({ where: { AND: [where, { reviewDeadline: { lt: now } }] } }),
    db.certificate.findFirst({ where, orderBy: { statusChangedAt: 'asc' }, select: { statusChangedAt: true } }),
    db.certificate.findMany({ where, orderBy: [{ reviewDeadline: { sort: 'asc', nulls: 'last' } }, { statusChangedAt: 'asc' }], take: REVIEW_ITEMS }),
  ]);
  return {
    waiting,
    overdue,
    oldestWaitingSince: oldest?.statusChangedAt.toISOString() ?? null,
    items: items.map((row) => ({
      id: row.id,
      vin: row.vin,
      manufacturerId: row.manufacturerId,
      typeApprovalNumber: row.typeApprovalNumber,
      owner: row.owner,
      waitingSince: row.statusChangedAt.toISOString(),
      reviewDeadline: row.reviewDeadline?.toISOString() ?? null,
      overdue: row.reviewDeadline !== null && row.reviewDeadline < now,
    })),
  };
}

/**
 * Release schedules span manufacturers (one per destination): shown by the rule of the release
 * routes, to the roles that may view them with a credential scoped to all manufacturers (`*`).
 */
async function releaseSummary({ client, config, logger }: ApiContext, principal: Principal, requestId: string): Promise<Dashboard['releases']> {
  if (!mayUseHubWide(principal, 'releases.view')) {
    return { visible: false, note: `release schedules span every manufacturer: shown to ${rolesFor('releases.view').join(', ')} scoped to all manufacturers (*)`, schedules: [] };
  }
  const actor = actorOf(principal, requestId);
  try {
    const schedules = await listReleaseSchedules(client, config, {}, actor);
    const views = await Promise.all(schedules.map((schedule) => describeReleaseSchedule(client, config, { destination: schedule.destination }, actor)));
    return {
      visible: true,
      note: views.length ? null : 'no release schedule yet (ecoc schedule create)',
      schedules: views.map((view) => {
        const run = view.recentRuns[0];
        const result = run?.result;
        return {
          scheduleId: view.scheduleId,
          destination: view.destination,
          paused: view.paused,
          nextRun: view.nextRuns[0] ?? null,
          lastRun: run
            ? {
                scheduledAt: run.scheduledAt,
                startedAt: run.startedAt,
                status: run.status,
                outcome: result?.outcome ?? null,
                delivered: result?.outcome === 'released' ? result.summary.delivered : null,
                failed: result?.outcome === 'released' ? result.summary.failed : null,
                note: result?.outcome === 'skipped' ? result.reason : null,
              }
            : null,
        };
      }),
    };
  } catch (error) {
    logger.warn({ err: error }, 'release schedules could not be read for the dashboard');
    return { visible: true, note: `release schedules could not be read: ${(error as Error).message}`, schedules: [] };
  }
}
