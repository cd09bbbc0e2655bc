import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { seesAllManufacturers } from '../../auth/principal.ts';
import type { ApiContext } from '../context.ts';
import { forbidden } from '../problem.ts';
import { temporalSdkMetrics } from '../metrics/temporal.ts';
import type { RouteTable } from '../routes-table.ts';

/** The OpenAPI document, generated from the route table (the schemas that validate requests). */
export function openApiDocument(table: RouteTable) {
  return new OpenApiGeneratorV31(table.registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'ecoc-hub API',
      version: '1',
      description:
        'Vehicle data in, signed EU eCoC (IVI 2.0) messages out. Errors are RFC 9457 problem JSON with a stable `code`. ' +
        'Authenticate with `Authorization: Bearer <API key or OIDC token>`; only /healthz and /readyz are public.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // Relative: the API that serves this document, wherever it is deployed.
    servers: [{ url: '/', description: 'The ecoc-hub API serving this document' }],
  });
}

/** `/metrics` (Prometheus text; ops/admin with the all-manufacturers scope) and `/openapi.json`. */
export function operationRoutes(table: RouteTable, { metrics, temporalMetricsAddress }: Pick<ApiContext, 'metrics' | 'temporalMetricsAddress'>): void {
  table.add({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics: HTTP, certificates by state, review backlog, signing and delivery outcomes, Temporal SDK worker metrics',
    description: 'Aggregates across all manufacturers, hence an ops or admin credential scoped to all manufacturers (`*`). Configure Prometheus with `authorization: { credentials: <API key> }`.',
    tag: 'operations',
    access: 'metrics.view',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
    async handler({ res, principal }) {
      if (!seesAllManufacturers(principal)) throw forbidden('Metrics aggregate all manufacturers: use a credential scoped to all manufacturers (*)');
      const [own, sdk] = await Promise.all([metrics.metrics(), temporalSdkMetrics(temporalMetricsAddress)]);
      res.type(metrics.contentType).send(`${own}\n${sdk}`);
    },
  });

  let document: ReturnType<typeof openApiDocument> | undefined;
  table.add({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApi',
    summary: 'This API’s OpenAPI 3.1 document',
    tag: 'operations',
    access: 'authenticated',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handler({ res }) {
      document ??= openApiDocument(table);
      res.json(document);
    },
  });
}
