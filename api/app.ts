import express, { type Express } from 'express';
import { consoleRouter } from '../console/serve.ts';
import { TokenBuckets, rateLimit } from './middleware/rate-limit.ts';
import { authenticate } from './middleware/authenticate.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { requestTimeout } from './middleware/timeout.ts';
import { httpMetrics } from './metrics/http.ts';
import { certificateMetrics } from './metrics/certificates.ts';
import { notFoundHandler, problemHandler } from './problem.ts';
import { requestContext } from './request-context.ts';
import type { ApiContext, RouteModule } from './context.ts';
import { RouteTable } from './routes-table.ts';
import { auditRoutes } from './routes/audit.ts';
import { certificateRoutes } from './routes/certificates/index.ts';
import { consoleRoutes } from './routes/console.ts';
import { healthRoutes } from './routes/health.ts';
import { keyRoutes } from './routes/keys.ts';
import { operationRoutes } from './routes/operations.ts';
import { releaseRoutes } from './routes/releases.ts';
import { demoRoutes } from './routes/demo.ts';
import { typeApprovalRoutes } from './routes/type-approvals.ts';
import { vectoImportRoutes } from './routes/vecto-imports.ts';
import { vehicleRoutes } from './routes/vehicles.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export type { ApiContext, RouteModule } from './context.ts';

/** The resource modules under /api/v1; other parts of the product add theirs via `extraRoutes`. */
export const v1Routes: RouteModule[] = [vehicleRoutes, certificateRoutes, vectoImportRoutes, releaseRoutes, typeApprovalRoutes, auditRoutes, keyRoutes, consoleRoutes, webhookRoutes, demoRoutes];

export interface Api {
  app: Express;
  /** Every route with its OpenAPI path (the OpenAPI document is generated from the same table). */
  table: RouteTable;
}

export function createApp(context: ApiContext, extraRoutes: RouteModule[] = []): Api {
  const { config } = context;
  const buckets = new TokenBuckets(config.ECOC_API_RATE_PER_SECOND, config.ECOC_API_RATE_BURST);
  const table = new RouteTable({
    authenticate: authenticate({ db: context.db, oidc: context.oidc, failures: buckets }),
    rateLimit: rateLimit(buckets),
    bodyLimit: config.ECOC_API_BODY_LIMIT,
  });
  healthRoutes(table, context.readinessProbes);
  operationRoutes(table, context);
  for (const module of [...v1Routes, ...extraRoutes]) module(table, context);
  certificateMetrics(context.metrics, context.db);

  const app = express();
  app.disable('x-powered-by');
  // The client address (rate limits, failed-login throttling, logs) is the socket's peer; only
  // proxies named in ECOC_TRUST_PROXY may replace it with X-Forwarded-For.
  app.set('trust proxy', config.ECOC_TRUST_PROXY);
  app.use(requestContext(context.logger));
  app.use(securityHeaders);
  app.use(httpMetrics(context.metrics));
  app.use(requestTimeout(config.ECOC_API_REQUEST_TIMEOUT));
  // The web console: static pages that call this same API (same origin, same credentials).
  app.use(consoleRouter(context.logger.child({ component: 'console' })));
  app.use(table.router);
  app.use(notFoundHandler);
  app.use(problemHandler);
  return { app, table };
}
