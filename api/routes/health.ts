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
    summary: 'Readiness: Temporal and PostgreSQL; reports worker presence and the signing certificate',
    description:
      'Ready (200) when what the API itself needs answers: Temporal and PostgreSQL. Checks with `required: false` only report: ' +
      '`worker` (`data.state` present, absent or unknown: a worker polls the certificate task queue) and `signingCertificate` ' +
      '(`data.state` valid, expiring, expired, not_yet_valid); alarm on them through /metrics. Details never name hosts or ports.',
    tag: 'operations',
    access: 'public',
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: { description: 'A required dependency is not ready (same body, status not_ready)', schema: readinessSchema, contentType: 'application/json' },
    },
    async handler({ res }) {
      const readiness = await checkReadiness(probes);
      res.status(readiness.ready ? 200 : 503).json({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks });
    },
  });
}
