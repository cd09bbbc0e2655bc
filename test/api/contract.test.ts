import type { Express } from 'express';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../api/app.ts';
import { listen } from '../../api/server.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { installTemporalRuntime } from '../../platform/temporal/runtime.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

let h: ApiHarness;
let ops: string;
let erp: string;

beforeAll(async () => {
  // First runtime install in this process: with the SDK's Prometheus exporter on loopback.
  installTemporalRuntime(createLogger('warn'), { metricsBindAddress: `127.0.0.1:${await freePort()}` });
  h = await startApiHarness({ env: { ECOC_API_BODY_LIMIT: '64kb' } });
  ops = await h.key('ops', ['ops'], ['*']);
  erp = await h.key('erp-feed', ['integrator']);
});
afterAll(async () => h?.stop());

function expectProblem(response: { status: number; headers: Headers; json: Record<string, unknown> }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.json).toMatchObject({ status, code, type: `https://ecoc-hub.dev/problems/${code}` });
  expect(typeof response.json.title).toBe('string');
  expect(typeof response.json.requestId).toBe('string');
}

/** Every route Express would dispatch to, read from the router itself (not from our table). */
function expressRoutes(app: Express): { method: string; path: string }[] {
  const found: { method: string; path: string }[] = [];
  const walk = (stack: unknown[], prefix: string) => {
    for (const layer of stack as { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] }; rawPath?: string }[]) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m])) found.push({ method, path: prefix + layer.route.path });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: unknown[] } }).router.stack, '');
  return found;
}

describe('OpenAPI', () => {
  test('every registered Express route is in the generated OpenAPI 3.1 document, with problem answers for errors', async () => {
    const response = await h.call('GET', '/openapi.json', { token: erp });
    expect(response.status).toBe(200);
    const document = response.json;
    expect(document.openapi).toBe('3.1.0');
    // The web console's static pages (HTML and assets, console/serve.ts) are not API operations.
    const routes = expressRoutes(h.api.app).filter(({ path }) => path !== '/' && !path.startsWith('/console'));
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const { method, path } of routes) {
      const openApiPath = path.replace(/:(\w+)/g, '{$1}');
      expect(document.paths[openApiPath]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(documented.length).toBe(routes.length);
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> }>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const isPublic = path === '/healthz' || path === '/readyz';
        expect(operation.security, `${method} ${path}`).toEqual(isPublic ? [] : [{ bearer: [] }]);
        if (!isPublic) expect(operation.responses['401']?.content?.['application/problem+json'], `${method} ${path} 401`).toBeDefined();
      }
    }
    // Request schemas come from the validating zod schemas: the VehicleRecord's VIN pattern is there.
    expect(JSON.stringify(document.components.schemas.VehicleRecord)).toContain('A-HJ-NPR-Z0-9');
    expect(document.paths['/api/v1/certificates/{certificateId}/approve'].post['x-roles']).toEqual(['reviewer', 'admin']);
  });
});

describe('one problem format for every 4xx', () => {
  test('malformed JSON, too large, wrong content type, unknown route, invalid fields', async () => {
    expectProblem(await h.call('POST', '/api/v1/vehicles', { token: erp, raw: '{"vin": ', headers: { 'content-type': 'application/json' } }), 400, 'malformed_json');
    expectProblem(await h.call('POST', '/api/v1/vehicles', { token: erp, raw: JSON.stringify({ records: ['x'.repeat(70_000)] }), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    expectProblem(await h.call('POST', '/api/v1/vehicles', { token: erp, raw: 'vin=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    expectProblem(await h.call('GET', '/api/v1/nothing-here', { token: erp }), 404, 'not_found');
    expectProblem(await h.call('GET', '/api/v1/certificates/not-an-id', { token: erp }), 400, 'invalid_request');
    const invalid = await h.call('POST', '/api/v1/vehicles', { token: erp, body: { ...specimenRecord(nextVin()), vin: 'WVWI0000000000000', stage: 'one' } });
    expectProblem(invalid, 400, 'invalid_request');
    expect(invalid.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['stage', 'vin']);
  });

  test('rate limit per credential answers 429 with Retry-After; another credential is unaffected', async () => {
    const config = loadConfig({ ...process.env, ECOC_TASK_QUEUE: h.lifecycle.taskQueue, ECOC_API_RATE_PER_SECOND: '0.01', ECOC_API_RATE_BURST: '3' });
    const { app } = createApp({
      db: h.lifecycle.db,
      client: h.lifecycle.client,
      taskQueue: h.lifecycle.taskQueue,
      review: h.lifecycle.review,
      config,
      logger: createLogger('silent'),
      readinessProbes: {},
      metrics: new Registry(),
      oidc: undefined,
    });
    const limited = await listen(app, '127.0.0.1', await freePort());
    try {
      const get = async (token: string) => {
        const response = await fetch(`${limited.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
      };
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await get(erp)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await get(erp);
      expectProblem(refused, 429, 'rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await get(ops)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  test('security headers on every answer', async () => {
    for (const response of [await h.call('GET', '/healthz'), await h.call('GET', '/api/v1/me', { token: erp }), await h.call('GET', '/api/v1/me')]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
  });
});

describe('metrics', () => {
  test('/metrics shows HTTP, certificate states, review backlog, outcomes and the Temporal SDK’s worker metrics; only for all-manufacturer ops', async () => {
    const ingested = await h.call('POST', '/api/v1/vehicles', { token: erp, body: specimenRecord(nextVin()) });
    await h.lifecycle.waitForStatus(ingested.json.certificateId, 'in_review');
    const scopedOps = await h.key('ops-acme', ['ops'], ['acme']);
    expect((await h.call('GET', '/metrics', { token: scopedOps })).status).toBe(403);
    expect((await h.call('GET', '/metrics', { token: erp })).status).toBe(403);
    const response = await h.call('GET', '/metrics', { token: ops });
    expect(response.status).toBe(200);
    const text = response.text;
    expect(text).toMatch(/^ecoc_http_requests_total\{method="POST",route="\/api\/v1\/vehicles",status="201"\} [1-9]/m);
    expect(text).toMatch(/^ecoc_http_request_duration_seconds_bucket\{.*route="\/api\/v1\/vehicles".*\} \d+/m);
    expect(text).toMatch(/^ecoc_certificates\{status="in_review"\} [1-9]/m);
    expect(text).toMatch(/^ecoc_review_backlog [1-9]/m);
    expect(text).toMatch(/^ecoc_review_oldest_age_seconds \d/m);
    expect(text).toMatch(/^ecoc_signing_outcomes_total\{outcome="signed"\} \d+/m);
    expect(text).toMatch(/^ecoc_delivery_outcomes_total\{outcome="delivered"\} \d+/m);
    expect(text).toMatch(/^ecoc_signing_certificate_expiry_days \d+/m);
    // From the SDK's own exporter (worker poll/slot metrics carry the task queue).
    expect(text).toMatch(new RegExp(`^temporal_\\w+\\{.*task_queue="${h.lifecycle.taskQueue}".*\\} `, 'm'));
  });
});
