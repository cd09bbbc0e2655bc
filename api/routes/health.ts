import { Router } from 'express';
import { checkReadiness, type ReadinessProbe } from '../../platform/readiness.ts';

/** Liveness (the process answers) and readiness (every dependency answers). */
export function healthRoutes(probes: Record<string, ReadinessProbe>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(probes);
    res.status(readiness.ready ? 200 : 503).json({ status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks });
  });
  return router;
}
