import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import type { ZodType } from 'zod';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startApiHarness, type ApiHarness } from '../support/api.ts';

type Operation = { requestBody?: { content: Record<string, { schema: { $ref?: string; example?: unknown }; example?: unknown }> }; responses: Record<string, unknown> };
type OpenApiDocument = { servers?: { url: string }[]; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { example?: unknown }> } };

let h: ApiHarness;
let document: OpenApiDocument;

beforeAll(async () => {
  h = await startApiHarness();
  const response = await h.call('GET', '/openapi.json', { token: await h.key('reader', ['integrator']) });
  expect(response.status).toBe(200);
  document = response.json as OpenApiDocument;
});
afterAll(async () => h?.stop());

const operations = (): [string, Operation][] =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Operation]));

/** The example a client sees for a request body: on the media type, the schema, or the schema it references. */
function bodyExample(operation: Operation): unknown {
  const media = operation.requestBody?.content['application/json'];
  if (!media) return undefined;
  const ref = media.schema.$ref?.replace('#/components/schemas/', '');
  return media.example ?? media.schema.example ?? (ref ? document.components.schemas[ref]?.example : undefined);
}

describe('the OpenAPI document', () => {
  test("passes Redocly's recommended rules with no error (warnings are printed)", async () => {
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config: await createConfig({ extends: ['recommended'] }) });
    const describe = (problem: (typeof problems)[number]) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? '?'}`;
    for (const warning of problems.filter((problem) => problem.severity === 'warn')) console.warn(`openapi lint warning: ${describe(warning)}`);
    expect(problems.filter((problem) => problem.severity === 'error').map(describe)).toEqual([]);
  });

  test('names its server and documents a 4xx answer for every operation', () => {
    expect(document.servers?.length).toBeGreaterThan(0);
    for (const [name, operation] of operations()) {
      expect(Object.keys(operation.responses).filter((status) => status.startsWith('4')), name).not.toEqual([]);
    }
  });

  test('every request body has an example, and the example passes the schema that validates the request', () => {
    const bodySchemas = new Map(
      h.api.table.registry.definitions
        .filter((definition): definition is { type: 'route'; route: RouteConfig } => definition.type === 'route')
        .map(({ route }) => [`${route.method.toUpperCase()} ${route.path}`, (route.request?.body?.content['application/json'] as { schema?: ZodType } | undefined)?.schema]),
    );
    const withBody = operations().filter(([, operation]) => operation.requestBody);
    expect(withBody.length).toBeGreaterThanOrEqual(10);
    for (const [name, operation] of withBody) {
      const example = bodyExample(operation);
      expect(example, `${name} has no example`).toBeDefined();
      const schema = bodySchemas.get(name);
      expect(schema, name).toBeDefined();
      const parsed = schema!.safeParse(example);
      expect(parsed.success ? [] : parsed.error.issues, `${name}: its example is refused`).toEqual([]);
    }
  });
});
