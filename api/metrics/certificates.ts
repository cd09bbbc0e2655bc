import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../../platform/database/prisma.ts';
import { certificateStatuses } from '../../schemas/certificate.ts';

/**
 * Lifecycle metrics read from PostgreSQL at scrape time: the certificate projection (state
 * counts, review backlog) and the append-only audit trail (signing and delivery outcomes, which
 * only grow, hence counters). Correct across any number of worker processes.
 */
export function certificateMetrics(registry: Registry, db: Database): void {
  new Gauge({
    name: 'ecoc_certificates',
    help: 'Certificates by lifecycle state (from the certificate projection)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.certificate.groupBy({ by: ['status'], _count: { _all: true } });
      this.reset();
      for (const status of certificateStatuses) this.set({ status }, 0);
      for (const row of rows) this.set({ status: row.status }, row._count._all);
    },
  });
  // One query feeds three gauges; each gauge's collect awaits it, so the order of collection does not matter.
  let review: { at: number; stats: Promise<{ waiting: number; oldest: Date | null; overdue: number }> } | undefined;
  const reviewStats = () => {
    if (!review || Date.now() - review.at > 1_000) {
      review = {
        at: Date.now(),
        stats: db.$queryRaw<{ waiting: bigint; oldest: Date | null; overdue: bigint }[]>`
          SELECT count(*) AS waiting, min(status_changed_at) AS oldest, count(*) FILTER (WHERE review_deadline < now()) AS overdue
          FROM certificate WHERE status = 'in_review'`.then(([row]) => ({ waiting: Number(row?.waiting ?? 0), oldest: row?.oldest ?? null, overdue: Number(row?.overdue ?? 0) })),
      };
    }
    return review.stats;
  };
  new Gauge({
    name: 'ecoc_review_backlog',
    help: 'Certificates waiting in review',
    registers: [registry],
    async collect() {
      this.set((await reviewStats()).waiting);
    },
  });
  new Gauge({
    name: 'ecoc_review_overdue',
    help: 'Certificates in review past their review deadline',
    registers: [registry],
    async collect() {
      this.set((await reviewStats()).overdue);
    },
  });
  new Gauge({
    name: 'ecoc_review_oldest_age_seconds',
    help: 'How long the oldest certificate in review has waited (0 when none)',
    registers: [registry],
    async collect() {
      const { oldest } = await reviewStats();
      this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
    },
  });
  outcomeCounter(registry, db, {
    name: 'ecoc_signing_outcomes_total',
    help: 'Signing outcomes recorded in the audit trail (signed, failed)',
    succeeded: 'status:signed',
    failedStep: 'sign',
  });
  outcomeCounter(registry, db, {
    name: 'ecoc_delivery_outcomes_total',
    help: 'Delivery outcomes recorded in the audit trail (delivered, failed permanently or after retries, retry_later for batch outages)',
    succeeded: 'status:delivered',
    failedStep: 'deliver',
    retryLater: 'delivery_retry_later',
  });
}

function outcomeCounter(registry: Registry, db: Database, spec: { name: string; help: string; succeeded: string; failedStep: string; retryLater?: string }): void {
  const success = spec.succeeded.replace('status:', '');
  new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: ['outcome'] as const,
    registers: [registry],
    async collect() {
      const [row] = await db.$queryRaw<{ succeeded: bigint; failed: bigint; retry_later: bigint }[]>`
        SELECT count(*) FILTER (WHERE action = ${spec.succeeded}) AS succeeded,
               count(*) FILTER (WHERE action = 'status:failed' AND detail->>'note' LIKE ${`${spec.failedStep}:%`}) AS failed,
               count(*) FILTER (WHERE action = ${spec.retryLater ?? ''}) AS retry_later
        FROM audit_record WHERE action IN (${spec.succeeded}, 'status:failed', ${spec.retryLater ?? ''})`;
      // Values come from the append-only trail, so they only grow: set them as counter totals.
      this.reset();
      this.inc({ outcome: success }, Number(row?.succeeded ?? 0));
      this.inc({ outcome: 'failed' }, Number(row?.failed ?? 0));
      if (spec.retryLater) this.inc({ outcome: 'retry_later' }, Number(row?.retry_later ?? 0));
    },
  });
}
