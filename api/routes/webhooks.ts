import type { Prisma } from '../../.generated/prisma/client.ts';
import { seesAllManufacturers } from '../../auth/principal.ts';
import { textProblem } from '../../schemas/text-rule.ts';
import { webhookDeliveryPageSchema, webhookDeliveryQuerySchema, type WebhookDeliveryView } from '../../schemas/api/webhooks.ts';
import type { RouteModule } from '../context.ts';
import { HttpProblem } from '../problem.ts';

/** The webhook delivery log: what was sent to which endpoint, every attempt and its answer. */
export const webhookRoutes: RouteModule = (table, { db }) => {
  table.add({
    method: 'get',
    path: '/api/v1/webhooks/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'The webhook delivery log: one entry per event and endpoint, with every attempt',
    description:
      'Newest first (keyset pagination: pass nextCursor as `after`). Callers scoped to some manufacturers see the events of their certificates only; hub events (signing certificate, release runs) need the all-manufacturers scope.',
    tag: 'webhooks',
    access: 'audit.view',
    query: webhookDeliveryQuerySchema,
    responses: { 200: { description: 'One page', schema: webhookDeliveryPageSchema } },
    async handler({ res, query, principal }) {
      const after = query.after ? parseCursor(query.after) : undefined;
      const event: Prisma.WebhookEventWhereInput = {
        ...(seesAllManufacturers(principal) ? {} : { manufacturerId: { in: principal.manufacturers } }),
        ...(query.type ? { type: query.type } : {}),
      };
      const where: Prisma.WebhookDeliveryWhereInput = {
        AND: [
          { event },
          query.status ? { status: query.status } : {},
          query.endpointId ? { endpointId: query.endpointId } : {},
          query.eventId ? { eventId: query.eventId } : {},
          after
            ? {
                OR: [
                  { createdAt: { lt: after.at } },
                  { createdAt: after.at, eventId: { lt: after.eventId } },
                  { createdAt: after.at, eventId: after.eventId, endpointId: { lt: after.endpointId } },
                ],
              }
            : {},
        ],
      };
      const rows = await db.webhookDelivery.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { eventId: 'desc' }, { endpointId: 'desc' }],
        take: query.limit + 1,
        include: { event: { select: { type: true, occurredAt: true, certificateId: true } }, history: { orderBy: { attempt: 'asc' } } },
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const items: WebhookDeliveryView[] = page.map((row) => ({
        eventId: row.eventId,
        endpointId: row.endpointId,
        type: row.event.type as WebhookDeliveryView['type'],
        occurredAt: row.event.occurredAt.toISOString(),
        certificateId: row.event.certificateId,
        status: row.status as WebhookDeliveryView['status'],
        attempts: row.attempts,
        nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt.toISOString() : null,
        lastStatusCode: row.lastStatusCode,
        lastError: row.lastError,
        deliveredAt: row.deliveredAt?.toISOString() ?? null,
        createdAt: row.createdAt.toISOString(),
        history: row.history.map((attempt) => ({
          attempt: attempt.attempt,
          startedAt: attempt.startedAt.toISOString(),
          durationMs: attempt.durationMs,
          statusCode: attempt.statusCode,
          error: attempt.error as WebhookDeliveryView['history'][number]['error'],
          detail: attempt.detail,
        })),
      }));
      res.json(webhookDeliveryPageSchema.parse({ items, nextCursor: rows.length > query.limit && last ? cursor(last) : null }));
    },
  });
};

/** Opaque to clients: the last row's creation time, event and endpoint. */
function cursor(row: { createdAt: Date; eventId: string; endpointId: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.eventId, row.endpointId])).toString('base64url');
}

function parseCursor(text: string): { at: Date; eventId: string; endpointId: string } {
  try {
    const [at, eventId, endpointId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    // The ids go into a query: the shared text rule, as for every other input.
    if (typeof eventId === 'string' && typeof endpointId === 'string' && textProblem(eventId, 200) === undefined && textProblem(endpointId, 100) === undefined && !Number.isNaN(date.getTime())) {
      return { at: date, eventId, endpointId };
    }
  } catch {
    // reported below
  }
  throw new HttpProblem(400, 'invalid_request', 'The request query is invalid', { errors: [{ path: 'after', message: 'not a cursor from a previous page' }] });
}
