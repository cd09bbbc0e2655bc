import { checkReadiness, type ReadinessProbe } from '../../platform/readiness.ts';
import { livenessSchema, readinessSchema } from '../../schemas/api/health.ts';
import type { RouteTable } from '../routes-table.ts';

/** Liveness (the process answers) and readiness (every dependency answers); both public for orchestrators. */
export function healthRoutes(table: RouteTable, probes: Record<string, ReadinessProbe>): void {
  table.add({
    method: 'get',
    path: '/healthz',
    operationId: 'liveness',
    summary: 'Liveness: the process answers',
    tag: 'operations',
    access: 'public',
    responses: { 200: { description: 'Alive', schema: livenessSchema } },
    handler({ res }) {
      res.json({ status: 'ok' });
    },
  });
  table.add({
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    summary: 'Readiness: Temporal, PostgreSQL, a polling worker and the signing certificate',
    tag: 'operations',
    access: 'public',
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: { description: 'A dependency is not ready (same body, status not_ready)', schema: readinessSchema, contentType: 'application/json' },
    },
    async handler({ res }) {
      const readiness = await checkReadiness(probes);
      res.status(readiness.ready ? 200 : 503).json({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks });
    },
  });
}
