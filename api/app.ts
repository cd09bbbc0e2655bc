import express, { type Express, type Router } from 'express';
import type { Logger } from '../platform/logger.ts';
import type { ReadinessProbe } from '../platform/readiness.ts';
import { notFoundHandler, problemHandler } from './problem.ts';
import { requestContext } from './request-context.ts';
import { healthRoutes } from './routes/health.ts';

export interface ApiDependencies {
  logger: Logger;
  readinessProbes: Record<string, ReadinessProbe>;
  /** Versioned resource routers mounted under /api/v1. */
  v1?: Router[];
}

export function createApp(deps: ApiDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
  app.use(healthRoutes(deps.readinessProbes));
  for (const router of deps.v1 ?? []) app.use('/api/v1', router);
  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}
