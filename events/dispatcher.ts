import { setTimeout as delay } from 'node:timers/promises';
import { Counter, type Registry } from 'prom-client';
import { mapWithConcurrency } from '../platform/concurrency.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { Config } from '../schemas/config/index.ts';
import type { WebhookAttemptError, WebhookPayload } from '../schemas/events.ts';
import { subscribes, type WebhookEndpoint } from './endpoints.ts';

/** Events fanned out, and deliveries attempted, per round. */
const FAN_OUT_BATCH = 200;
const DELIVERY_BATCH = 20;
const PARALLEL_CALLS = 8;

export type DispatcherSettings = Pick<
  Config,
  'ECOC_WEBHOOK_TIMEOUT' | 'ECOC_WEBHOOK_POLL_INTERVAL' | 'ECOC_WEBHOOK_RETRY_INITIAL' | 'ECOC_WEBHOOK_RETRY_MAX' | 'ECOC_WEBHOOK_MAX_ATTEMPTS'
>;

export interface WebhookDispatcher {
  /** Stops polling and waits for the calls in flight (their outcome is recorded). */
  stop(): Promise<void>;
}

interface DueDelivery {
  event_id: string;
  endpoint_id: string;
  attempts: number;
}

interface AttemptOutcome {
  statusCode: number | null;
  error: WebhookAttemptError | null;
  /** The cause in a few words (an error code, the HTTP status): for the log, never parsed. */
  detail: string | null;
  durationMs: number;
}

/**
 * Sends the outbox (webhook_event) to the configured endpoints. Each round: fan new events out
 * to one delivery per subscribed endpoint, then call the endpoints whose deliveries are due. Any
 * number of workers may run this: rows are taken with FOR UPDATE SKIP LOCKED, and a delivery
 * being called is leased (its next attempt moved past the call's timeout), so a worker that dies
 * mid-call leaves it to be retried. Delivery is at least once; receivers dedupe by `webhook-id`.
 */
export function startWebhookDispatcher(options: {
  db: Database;
  endpoints: readonly WebhookEndpoint[];
  settings: DispatcherSettings;
  logger: Logger;
  /** The worker's metrics: `ecoc_webhook_attempts_total{endpoint,outcome}` (alarm on `given_up`, watch `retry`). */
  registry?: Registry | undefined;
}): WebhookDispatcher {
  const { db, endpoints, settings } = options;
  const log = options.logger.child({ component: 'webhooks' });
  const attempts = new Counter({
    name: 'ecoc_webhook_attempts_total',
    help: 'Webhook calls made by this worker process, by endpoint and outcome (delivered, retry, given_up)',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: options.registry ? [options.registry] : [],
  });
  const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  const endpointIds = endpoints.map((endpoint) => endpoint.id);
  const leaseMs = settings.ECOC_WEBHOOK_TIMEOUT * 2 + 5_000;
  const abort = new AbortController();

  async function fanOut(): Promise<number> {
    return db.$transaction(async (tx) => {
      const events = await tx.$queryRaw<{ id: string; type: string; manufacturer_id: string | null }[]>`
        SELECT id, type, manufacturer_id FROM webhook_event WHERE fanned_out_at IS NULL
        ORDER BY created_at, id LIMIT ${FAN_OUT_BATCH} FOR UPDATE SKIP LOCKED`;
      if (events.length === 0) return 0;
      const deliveries = events.flatMap((event) =>
        endpoints.filter((endpoint) => subscribes(endpoint, { type: event.type, manufacturerId: event.manufacturer_id })).map((endpoint) => ({ eventId: event.id, endpointId: endpoint.id })),
      );
      if (deliveries.length) await tx.webhookDelivery.createMany({ data: deliveries, skipDuplicates: true });
      await tx.webhookEvent.updateMany({ where: { id: { in: events.map((event) => event.id) } }, data: { fannedOutAt: new Date() } });
      return events.length;
    });
  }

  /**
   * Leases the due deliveries of configured endpoints (one of a removed endpoint stays pending,
   * visible in the log). Times are UTC without zone, as Prisma writes them.
   */
  async function claimDue(): Promise<DueDelivery[]> {
    if (endpointIds.length === 0) return [];
    return db.$queryRaw<DueDelivery[]>`
      UPDATE webhook_delivery d SET next_attempt_at = (now() AT TIME ZONE 'UTC') + ${leaseMs} * interval '1 millisecond', updated_at = (now() AT TIME ZONE 'UTC')
      FROM (SELECT event_id, endpoint_id FROM webhook_delivery
            WHERE status = 'pending' AND next_attempt_at <= (now() AT TIME ZONE 'UTC') AND endpoint_id = ANY(${endpointIds})
            ORDER BY next_attempt_at LIMIT ${DELIVERY_BATCH} FOR UPDATE SKIP LOCKED) due
      WHERE d.event_id = due.event_id AND d.endpoint_id = due.endpoint_id
      RETURNING d.event_id, d.endpoint_id, d.attempts`;
  }

  async function deliverDue(): Promise<number> {
    const due = await claimDue();
    if (due.length === 0) return 0;
    const events = new Map((await db.webhookEvent.findMany({ where: { id: { in: [...new Set(due.map((row) => row.event_id))] } } })).map((event) => [event.id, event]));
    await mapWithConcurrency(due, PARALLEL_CALLS, async (row) => {
      const event = events.get(row.event_id)!;
      const endpoint = byId.get(row.endpoint_id)!;
      const payload: WebhookPayload = { type: event.type as WebhookPayload['type'], timestamp: event.occurredAt.toISOString(), data: event.data as Record<string, unknown> };
      const startedAt = new Date();
      const outcome = await call(endpoint, event.id, JSON.stringify(payload), settings.ECOC_WEBHOOK_TIMEOUT);
      await record(row, event.type, startedAt, outcome);
    });
    return due.length;
  }

  async function record(row: DueDelivery, type: string, startedAt: Date, outcome: AttemptOutcome): Promise<void> {
    const attempt = row.attempts + 1;
    const delivered = outcome.error === null;
    const givenUp = !delivered && attempt >= settings.ECOC_WEBHOOK_MAX_ATTEMPTS;
    const retryInMs = delivered || givenUp ? 0 : backoff(attempt, settings);
    const key = { eventId: row.event_id, endpointId: row.endpoint_id };
    await db.$transaction([
      db.webhookAttempt.create({
        data: { ...key, attempt, startedAt, durationMs: outcome.durationMs, statusCode: outcome.statusCode, error: outcome.error, detail: outcome.detail },
      }),
      db.webhookDelivery.update({
        where: { eventId_endpointId: key },
        data: {
          attempts: attempt,
          status: delivered ? 'delivered' : givenUp ? 'failed' : 'pending',
          lastStatusCode: outcome.statusCode,
          lastError: outcome.error === null ? null : `${outcome.error}: ${outcome.detail ?? ''}`.trim(),
          ...(delivered ? { deliveredAt: new Date() } : { nextAttemptAt: new Date(Date.now() + retryInMs) }),
        },
      }),
    ]);
    const fields = { endpoint: row.endpoint_id, eventId: row.event_id, type, attempt, statusCode: outcome.statusCode, error: outcome.error, detail: outcome.detail, ms: outcome.durationMs };
    attempts.inc({ endpoint: row.endpoint_id, outcome: delivered ? 'delivered' : givenUp ? 'given_up' : 'retry' });
    if (delivered) log.info(fields, 'webhook delivered');
    else if (givenUp) log.error(fields, `webhook not delivered after ${attempt} attempts; given up (kept in the delivery log)`);
    else log.warn({ ...fields, retryInMs }, 'webhook not delivered; will retry');
  }

  const running = (async () => {
    while (!abort.signal.aborted) {
      let busy = false;
      try {
        busy = (await fanOut()) > 0;
        busy = (await deliverDue()) > 0 || busy;
      } catch (error) {
        // The database away for a moment: the next round tries again; nothing is lost (it is all in the outbox).
        log.error({ err: error }, 'webhook dispatch round failed');
      }
      if (!busy) await delay(settings.ECOC_WEBHOOK_POLL_INTERVAL, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  })();

  log.info({ endpoints: endpointIds }, 'webhook dispatcher started');
  return {
    async stop() {
      abort.abort();
      await running;
    },
  };
}

/** Exponential: the initial delay doubled per failed attempt, capped, with ±20 % jitter so endpoints that failed together do not retry together. */
export function backoff(attempt: number, settings: Pick<DispatcherSettings, 'ECOC_WEBHOOK_RETRY_INITIAL' | 'ECOC_WEBHOOK_RETRY_MAX'>): number {
  const base = Math.min(settings.ECOC_WEBHOOK_RETRY_MAX, settings.ECOC_WEBHOOK_RETRY_INITIAL * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * One signed POST (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature over
 * "id.timestamp.body"). Only a 2xx answer delivers; redirects are not followed; the answer's body
 * is not read (an endpoint that answers garbage fails the attempt, it cannot break the dispatcher).
 */
async function call(endpoint: WebhookEndpoint, eventId: string, body: string, timeoutMs: number): Promise<AttemptOutcome> {
  const signedAt = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'ecoc-hub-webhooks',
        'webhook-id': eventId,
        'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
        'webhook-signature': endpoint.signer.sign(eventId, signedAt, body),
      },
      body,
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { statusCode: response.status, error: null, detail: null, durationMs: elapsed() };
    return { statusCode: response.status, error: 'http_status', detail: `HTTP ${response.status}`, durationMs: elapsed() };
  } catch (error) {
    const timedOut = error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { statusCode: null, error: timedOut ? 'timeout' : 'network', detail: timedOut ? `no answer within ${timeoutMs} ms` : causeOf(error), durationMs: elapsed() };
  }
}

/** fetch wraps the socket's error (ECONNREFUSED, a parser error for a non-HTTP answer) as its cause. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
