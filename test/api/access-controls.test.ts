import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../api/app.ts';
import { listen, type RunningApi } from '../../api/server.ts';
import { requireGrantable } from '../../auth/api-keys.ts';
import { createOidcVerifier } from '../../auth/oidc.ts';
import { processErpStream } from '../../inbox/process-stream.ts';
import { loadConfig } from '../../platform/config.ts';
import { waitFor } from '../../platform/wait.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { createReleaseSchedule, deleteReleaseSchedule } from '../../releases/service.ts';
import type { Config } from '../../schemas/config/index.ts';
import { erpMappingSchema } from '../../schemas/erp/mapping.ts';
import { certificateWorkflowId } from '../../workflows/certificate/definitions.ts';
import { acmeMapping, CSV_HEADER, csvRow } from '../inbox/support.ts';
import { startApiHarness, type ApiHarness, type ApiResponse } from '../support/api.ts';
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/jwks.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

/**
 * Access controls that must hold (issue "Controls that hold"): each test names the control it
 * proves, on the real API over Temporal and PostgreSQL.
 */
let idp: TestIdentityProvider;
let h: ApiHarness;
let globalAdmin: string;
let acmeAdmin: string;
let oidcEnv: Record<string, string>;

beforeAll(async () => {
  idp = await startTestIdentityProvider();
  oidcEnv = { ECOC_OIDC_JWKS_URL: idp.jwksUrl, ECOC_OIDC_ISSUER: idp.issuer, ECOC_OIDC_AUDIENCE: idp.audience };
  h = await startApiHarness({ env: oidcEnv });
  globalAdmin = await h.key('root', ['admin'], ['*']);
  acmeAdmin = await h.key('acme-admin', ['admin'], ['acme']);
});

afterAll(async () => {
  await h?.stop();
  await idp?.stop();
});

function expectProblem(response: ApiResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.json).toMatchObject({ status, code });
}

const keyIdOf = (token: string) => token.split('_')[1]!;

/** Another app over the harness's Temporal and database, with settings of its own and a logger to read. */
async function startApp(settings: Partial<Config>, lines?: Record<string, unknown>[]): Promise<RunningApi> {
  const config: Config = { ...h.lifecycle.config, ECOC_API_RATE_PER_SECOND: 10_000, ECOC_API_RATE_BURST: 10_000, ...settings };
  const logger = lines ? pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) : createLogger('silent');
  const { app } = createApp({
    db: h.lifecycle.db,
    client: h.lifecycle.client,
    taskQueue: h.lifecycle.taskQueue,
    review: h.lifecycle.review,
    config,
    logger,
    readinessProbes: {},
    metrics: new Registry(),
    oidc: createOidcVerifier(config),
  });
  return listen(app, '127.0.0.1', await freePort());
}

async function get(api: RunningApi, path: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${api.url}${path}`, { headers });
  await response.arrayBuffer();
  return response.status;
}

describe('key management never reaches beyond the caller', () => {
  test('an admin scoped to one manufacturer cannot create a * key, a key for another manufacturer, or one with more roles than its own', async () => {
    for (const manufacturers of [['*'], ['globex'], ['acme', 'globex']]) {
      const refused = await h.call('POST', '/api/v1/keys', { token: acmeAdmin, body: { subject: 'mallory', roles: ['admin'], manufacturers } });
      expectProblem(refused, 403, 'forbidden_role');
      expect(refused.json.title).toContain('within their own scope');
    }
    // Only admins manage keys today, and admin holds every permission; the role rule itself, for any grantor:
    const grantor = { subject: 'r', credential: { kind: 'api_key' as const, keyId: '0000000000000000' }, roles: ['reviewer' as const, 'integrator' as const], manufacturers: ['acme'] };
    expect(() => requireGrantable(grantor, { roles: ['admin'], manufacturers: ['acme'] })).toThrow(/only roles within their own/);
    expect(() => requireGrantable(grantor, { roles: ['homologation'], manufacturers: ['acme'] })).toThrow(/only roles within their own/);
    expect(() => requireGrantable(grantor, { roles: ['reviewer'], manufacturers: ['acme'] })).not.toThrow();
    // Within its scope it may: the new key is exactly what was asked.
    const created = await h.call('POST', '/api/v1/keys', { token: acmeAdmin, body: { subject: 'acme-feed', roles: ['integrator'], manufacturers: ['acme'] } });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatchObject({ roles: ['integrator'], manufacturers: ['acme'], createdBy: 'acme-admin' });
    // No key with * was made by the scoped admin; the refusals are on the audit trail.
    expect(await h.lifecycle.db.apiKey.count({ where: { createdBy: 'acme-admin', manufacturers: { has: '*' } } })).toBe(0);
    const refusals = await h.lifecycle.db.auditRecord.findMany({ where: { action: 'api:key_created', actor: 'acme-admin' } });
    expect(refusals.filter((record) => (record.detail as { outcome?: string }).outcome === 'refused')).toHaveLength(3);
  });

  test('a scoped admin lists only keys within its manufacturers and cannot revoke one outside them: 404, exactly like a missing key', async () => {
    const globexKey = await h.key('globex-feed', ['integrator'], ['globex']);
    const mixedKey = await h.key('both-feed', ['integrator'], ['acme', 'globex']);
    const acmeKey = await h.key('acme-rita', ['reviewer'], ['acme']);

    const listed = await h.call('GET', '/api/v1/keys', { token: acmeAdmin });
    expect(listed.status).toBe(200);
    const ids = listed.json.keys.map((key: { keyId: string }) => key.keyId);
    expect(ids).toContain(keyIdOf(acmeKey));
    for (const outside of [globalAdmin, globexKey, mixedKey]) expect(ids).not.toContain(keyIdOf(outside));
    expect(listed.json.keys.every((key: { manufacturers: string[] }) => key.manufacturers.every((id) => id === 'acme'))).toBe(true);
    // The global admin sees them all.
    const all = (await h.call('GET', '/api/v1/keys', { token: globalAdmin })).json.keys.map((key: { keyId: string }) => key.keyId);
    expect(all).toEqual(expect.arrayContaining([globalAdmin, globexKey, mixedKey, acmeKey].map(keyIdOf)));

    const missing = await h.call('POST', '/api/v1/keys/0123456789abcdef/revoke', { token: acmeAdmin });
    expectProblem(missing, 404, 'not_found');
    for (const outside of [globalAdmin, globexKey, mixedKey]) {
      const refused = await h.call('POST', `/api/v1/keys/${keyIdOf(outside)}/revoke`, { token: acmeAdmin });
      expectProblem(refused, 404, 'not_found');
      expect(refused.json.title).toBe(missing.json.title.replace('0123456789abcdef', keyIdOf(outside)));
      expect((await h.call('GET', '/api/v1/me', { token: outside })).status).toBe(200);
    }
    expect((await h.lifecycle.db.apiKey.findUniqueOrThrow({ where: { id: keyIdOf(globalAdmin) } })).revokedAt).toBeNull();
    const revoked = await h.call('POST', `/api/v1/keys/${keyIdOf(acmeKey)}/revoke`, { token: acmeAdmin });
    expect(revoked.status).toBe(200);
    expect((await h.call('GET', '/api/v1/me', { token: acmeKey })).status).toBe(401);
  });

  test('an OIDC admin is held to the same limits as an API key', async () => {
    const token = await idp.token({ sub: 'olga', roles: ['admin'], manufacturers: ['acme'] });
    expectProblem(await h.call('POST', '/api/v1/keys', { token, body: { subject: 'x', roles: ['admin'], manufacturers: ['*'] } }), 403, 'forbidden_role');
    expectProblem(await h.call('POST', `/api/v1/keys/${keyIdOf(globalAdmin)}/revoke`, { token }), 404, 'not_found');
    const listed = await h.call('GET', '/api/v1/keys', { token });
    expect(listed.json.keys.map((key: { keyId: string }) => key.keyId)).not.toContain(keyIdOf(globalAdmin));
    const created = await h.call('POST', '/api/v1/keys', { token, body: { subject: 'olga-feed', roles: ['integrator'], manufacturers: ['acme'] } });
    expect(created.status).toBe(201);
    // An OIDC admin for every manufacturer manages * keys.
    const everyone = await idp.token({ sub: 'root-person', roles: ['admin'], manufacturers: ['*'] });
    expect((await h.call('POST', '/api/v1/keys', { token: everyone, body: { subject: 'ops-bot', roles: ['ops'], manufacturers: ['*'] } })).status).toBe(201);
  });
});

describe('authentication cannot be stretched', () => {
  test('each OIDC user has a rate-limit bucket of their own: one user’s burst does not throttle another of the same issuer', async () => {
    // The harness's configuration has the test identity provider.
    const limited = await startApp({ ECOC_API_RATE_PER_SECOND: 0.01, ECOC_API_RATE_BURST: 3 });
    try {
      const alice = { authorization: `Bearer ${await idp.token({ sub: 'alice', roles: ['reviewer'], manufacturers: ['acme'] })}` };
      const bob = { authorization: `Bearer ${await idp.token({ sub: 'bob', roles: ['reviewer'], manufacturers: ['acme'] })}` };
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push(await get(limited, '/api/v1/me', alice));
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(await get(limited, '/api/v1/me', bob)).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  test('X-Forwarded-For does not dodge the failed-login throttle unless ECOC_TRUST_PROXY names the proxy', async () => {
    expect(loadConfig({}).ECOC_TRUST_PROXY).toBe(false);
    expect(loadConfig({ ECOC_TRUST_PROXY: '1' }).ECOC_TRUST_PROXY).toBe(1);
    expect(loadConfig({ ECOC_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).ECOC_TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8']);
    for (const bad of ['true', '10.0.0.0/33', 'proxy.example']) expect(() => loadConfig({ ECOC_TRUST_PROXY: bad })).toThrow(/ECOC_TRUST_PROXY/);

    const failedLogins = async (trustProxy: Config['ECOC_TRUST_PROXY']) => {
      const api = await startApp({ ECOC_API_RATE_PER_SECOND: 0.01, ECOC_API_RATE_BURST: 3, ECOC_TRUST_PROXY: trustProxy });
      try {
        const statuses = [];
        for (let i = 0; i < 5; i += 1) statuses.push(await get(api, '/api/v1/me', { authorization: 'Bearer ecoc_0000000000000000_wrong', 'x-forwarded-for': `203.0.113.${i + 1}` }));
        return statuses;
      } finally {
        await api.stop();
      }
    };
    // By default the socket's address counts, whatever the header says.
    expect(await failedLogins(false)).toEqual([401, 401, 401, 429, 429]);
    // Behind a configured proxy (here: loopback) the forwarded address is the client's.
    expect(await failedLogins(['loopback'])).toEqual([401, 401, 401, 401, 401]);
  });

  test('an OIDC token without exp is refused', async () => {
    const refused = await h.call('GET', '/api/v1/me', { token: await idp.token({ sub: 'alice', roles: ['reviewer'], manufacturers: ['acme'] }, { expiresIn: null }) });
    expectProblem(refused, 401, 'unauthenticated');
    expect(refused.json.title).toContain('no exp claim');
  });
});

describe('one person, one subject', () => {
  test('an API key for "Zoë " and an OIDC login "zoe\u0308" (decomposed) are one actor: four-eyes refuses the second credential', async () => {
    const created = await h.call('POST', '/api/v1/keys', { token: globalAdmin, body: { subject: ' Zoë ', roles: ['integrator'], manufacturers: ['acme'] } });
    expect(created.status).toBe(201);
    expect(created.json.key.subject).toBe('zoë');
    expect((await h.lifecycle.db.apiKey.findUniqueOrThrow({ where: { id: created.json.key.keyId } })).subject).toBe('zoë');

    const ingested = await h.call('POST', '/api/v1/vehicles', { token: created.json.token, body: specimenRecord(nextVin()) });
    expect(ingested.status).toBe(201);
    await h.lifecycle.waitForStatus(ingested.json.certificateId, 'in_review');

    const login = await idp.token({ sub: 'ZOE\u0308', roles: ['reviewer'], manufacturers: ['acme'] });
    expect((await h.call('GET', '/api/v1/me', { token: login })).json.subject).toBe('zoë');
    const approve = await h.call('POST', `/api/v1/certificates/${ingested.json.certificateId}/approve`, { token: login, body: { dataVersion: 1 } });
    expectProblem(approve, 403, 'four_eyes');
    expect((await h.lifecycle.status(ingested.json.certificateId)).status).toBe('in_review');

    // A key whose stored subject predates normalisation still authenticates as the same actor.
    const legacy = await h.key('placeholder', ['reviewer'], ['acme']);
    await h.lifecycle.db.apiKey.update({ where: { id: keyIdOf(legacy) }, data: { subject: 'ZOË' } });
    expect((await h.call('GET', '/api/v1/me', { token: legacy })).json.subject).toBe('zoë');
  });
});

describe('scope in the console and at ingest', () => {
  test('a release manager scoped to one manufacturer sees no release schedule in the console dashboard; one scoped to * does', async () => {
    const destination = `controls-${Math.random().toString(36).slice(2, 8)}`;
    const file = join(h.lifecycle.config.ECOC_DATA_DIR, 'controls-destinations.json');
    const destinations = JSON.parse(readFileSync(h.lifecycle.config.ECOC_DESTINATIONS_FILE!, 'utf8')) as { id: string }[];
    writeFileSync(file, JSON.stringify([...destinations, { ...destinations[0], id: destination }]));
    const actor = { id: 'rel-all', roles: ['release-manager' as const] };
    await createReleaseSchedule(h.lifecycle.client, { ...h.lifecycle.config, ECOC_DESTINATIONS_FILE: file }, { destination, cron: '0 3 * * *', paused: true }, actor);
    try {
      const scoped = await h.call('GET', '/api/v1/console/dashboard', { token: await h.key('rel-acme', ['release-manager'], ['acme']) });
      expect(scoped.status).toBe(200);
      expect(scoped.json.releases).toMatchObject({ visible: false, schedules: [] });
      expect(scoped.json.releases.note).toContain('(*)');
      // The API's release routes answer the same credential with a scope refusal.
      expectProblem(await h.call('GET', '/api/v1/releases/schedules', { token: await h.key('rel-acme-2', ['release-manager'], ['acme']) }), 403, 'forbidden');

      const global = await h.call('GET', '/api/v1/console/dashboard', { token: await h.key('rel-all', ['release-manager'], ['*']) });
      expect(global.json.releases.visible).toBe(true);
      expect(global.json.releases.schedules.map((schedule: { destination: string }) => schedule.destination)).toContain(destination);
    } finally {
      await deleteReleaseSchedule(h.lifecycle.client, h.lifecycle.config, { destination }, actor);
    }
  });

  test('the console queue’s VIN and type-approval filters match % and _ literally, not as wildcards', async () => {
    const reader = await h.key('queue-reader', ['ops'], ['acme']);
    const vin = nextVin();
    expect((await h.call('POST', '/api/v1/vehicles', { token: await h.key('queue-feed', ['integrator'], ['acme']), body: specimenRecord(vin) })).status).toBe(201);
    const queue = async (query: string) => (await h.call('GET', `/api/v1/console/queue?${query}`, { token: reader })).json as { total: number; items: { vin: string }[] };
    expect((await queue(`vin=${vin.slice(3, 12)}`)).items.map((item) => item.vin)).toEqual([vin]);
    for (const wildcard of ['%25', '_', `${vin.slice(0, 5)}%25`, `${vin.slice(0, 5)}_`, '%5C']) expect((await queue(`vin=${wildcard}`)).total).toBe(0);
    expect((await queue('typeApprovalNumber=%25')).total).toBe(0);
    expect((await queue('typeApprovalNumber=_')).total).toBe(0);
  });

  test('ingesting another manufacturer’s VIN is refused without saying that, or whose, it is: API answer and ERP report alike', async () => {
    const vin = nextVin();
    expect((await h.call('POST', '/api/v1/vehicles', { token: await h.key('acme-owner', ['integrator'], ['acme']), body: specimenRecord(vin) })).status).toBe(201);
    const globex = await h.key('globex-erp', ['integrator'], ['globex']);
    const foreign = specimenRecord(vin, { manufacturerId: 'globex' });
    const fresh = specimenRecord(nextVin(), { manufacturerId: 'globex' });

    const single = await h.call('POST', '/api/v1/vehicles', { token: globex, body: foreign });
    expectProblem(single, 409, 'vin_not_accepted');
    const batch = await h.call('POST', '/api/v1/vehicles', { token: globex, body: { records: [foreign, fresh] } });
    expect(batch.status).toBe(200);
    expect(batch.json.results[0]).toMatchObject({ ok: false, code: 'vin_not_accepted' });
    expect(batch.json.results[1]).toMatchObject({ ok: true, outcome: 'created' });

    const report = (
      await processErpStream(Readable.from([`${CSV_HEADER}\n${csvRow(vin)}\n`]), {
        ingest: { db: h.lifecycle.db, client: h.lifecycle.client, taskQueue: h.lifecycle.taskQueue, review: h.lifecycle.review, destinations: h.lifecycle.destinations },
        mapping: erpMappingSchema.parse({ ...acmeMapping, manufacturerId: 'globex' }),
        fileName: 'globex.csv',
        actor: { id: 'erp-inbox', roles: ['integrator'] },
      })
    ).report;
    const row = report.rows[0]!;
    expect(row.status).toBe('rejected');
    const errors = row.status === 'rejected' ? row.errors : [];
    expect(errors[0]).toMatchObject({ rule: 'vin_not_accepted' });

    for (const text of [single.text, JSON.stringify(batch.json.results[0]), JSON.stringify(errors)]) {
      expect(text).not.toMatch(/another manufacturer|registered|acme|owner/i);
    }
    // Nothing of globex's reached the acme certificate.
    const versions = await h.lifecycle.db.certificateDataVersion.findMany({ where: { certificateId: certificateWorkflowId(vin, 1) } });
    expect(versions).toHaveLength(1);
  });
});

describe('a batch that outlives the request timeout', () => {
  test('is answered once, before the timeout, with per-record results matching what was stored; sending it again is idempotent', async () => {
    const lines: Record<string, unknown>[] = [];
    const settings = loadConfig({ ECOC_API_REQUEST_TIMEOUT: '2s', ECOC_API_BODY_LIMIT: '16mb' });
    const api = await startApp({ ECOC_API_REQUEST_TIMEOUT: settings.ECOC_API_REQUEST_TIMEOUT, ECOC_API_BODY_LIMIT: settings.ECOC_API_BODY_LIMIT }, lines);
    const token = await h.key('batch-feed', ['integrator'], ['acme']);
    // Vehicles another writer holds (their certificate rows locked, as an ERP file being ingested
    // does): one for each of the 8 ingest lanes, so the batch cannot finish in time on any machine.
    // Seven lanes wait at once; the eighth ingests three new records first, then waits too.
    const held = Array.from({ length: 8 }, () => specimenRecord(nextVin()));
    for (const record of held) expect((await h.call('POST', '/api/v1/vehicles', { token, body: record })).status).toBe(201);
    const records = [...held.slice(0, 7), ...Array.from({ length: 3 }, () => specimenRecord(nextVin())), held[7]!, ...Array.from({ length: 16 }, () => specimenRecord(nextVin()))];
    const heldIndexes = new Set([0, 1, 2, 3, 4, 5, 6, 10]);
    type Result = { index: number; ok: boolean; code?: string; outcome?: string; certificateId?: string; dataVersion?: number };
    const send = async (batch: typeof records) => {
      const started = Date.now();
      const response = await fetch(`${api.url}/api/v1/vehicles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ records: batch }),
      });
      const json = (await response.json()) as { accepted: number; results: Result[] };
      return { status: response.status, ms: Date.now() - started, json };
    };
    const heldIds = held.map((record) => certificateWorkflowId(record.vin, 1));
    let release!: () => void;
    const lock = h.lifecycle.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM certificate WHERE id = ANY(${heldIds}) FOR UPDATE`;
        await new Promise<void>((resolve) => (release = resolve));
      },
      { timeout: 60_000 },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const first = await send(records);
      release();
      await lock;
      // One answer, in time (the timeout middleware's own 503 would come at 2 s), with a result for every record.
      expect(first.ms).toBeLessThan(2_000 + 500);
      expect([200, 503]).toContain(first.status);
      expect(first.json.results.map((result) => result.index)).toEqual(records.map((_record, index) => index));
      const codes = first.json.results.map((result) => (result.ok ? 'ok' : result.code!));
      expect(codes.filter((code) => !['ok', 'not_processed', 'outcome_unknown'].includes(code))).toEqual([]);
      // The held vehicles were still running; nothing after them was started.
      for (let index = 0; index < 7; index += 1) expect(codes[index]).toBe('outcome_unknown');
      expect(['outcome_unknown', 'not_processed']).toContain(codes[10]);
      for (let index = 11; index < records.length; index += 1) expect(codes[index]).toBe('not_processed');
      const unknown = codes.filter((code) => code === 'outcome_unknown').length;

      // The answer matches the database: accepted records are stored once, records not processed not at all.
      for (const result of first.json.results) {
        const stored = await h.lifecycle.db.certificate.findUnique({ where: { id: certificateWorkflowId(records[result.index]!.vin, 1) } });
        if (result.ok) {
          expect(stored?.id).toBe(result.certificateId);
          expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId: result.certificateId! } })).toBe(1);
        } else if (result.code === 'not_processed') expect(stored).toBeNull();
      }
      // The records still running completed after the answer: logged, never answered a second time.
      const late = () => lines.filter((line) => line.msg === 'ingest completed after the answer');
      await waitFor(async () => late().length === unknown, { timeoutMs: 30_000, intervalMs: 100, what: 'the running records to complete' });
      for (const line of late()) expect(line).toMatchObject({ ok: true, outcome: heldIndexes.has(line.index as number) ? 'unchanged' : 'created' });
      expect(lines.filter((line) => line.msg === 'request timed out' || line.msg === 'error after the response started')).toEqual([]);
      expect(lines.filter((line) => line.msg === 'request' && line.path === '/api/v1/vehicles')).toHaveLength(1);

      // The same batch again: every record it gets to is stored once (what was accepted is unchanged) …
      const accepted = new Map<number, Result>(first.json.results.filter((result) => result.ok).map((result) => [result.index, result]));
      const again = await send(records);
      expect(again.ms).toBeLessThan(2_000 + 500);
      for (const result of again.json.results.filter((item) => item.ok)) {
        const before = accepted.get(result.index);
        if (before) expect(result).toMatchObject({ certificateId: before.certificateId, dataVersion: before.dataVersion, outcome: 'unchanged' });
        if (heldIndexes.has(result.index)) expect(result.outcome).toBe('unchanged');
        accepted.set(result.index, result);
      }
      // … and sending what is left until all is in completes the batch.
      for (let attempt = 0; attempt < 20 && accepted.size < records.length; attempt += 1) {
        const left = records.map((_record, index) => index).filter((index) => !accepted.has(index));
        const answer = await send(left.map((index) => records[index]!));
        expect(answer.ms).toBeLessThan(2_000 + 500);
        for (const result of answer.json.results.filter((item) => item.ok)) accepted.set(left[result.index]!, { ...result, index: left[result.index]! });
      }
      expect(accepted.size).toBe(records.length);
      const ids = records.map((record) => certificateWorkflowId(record.vin, 1));
      expect(await h.lifecycle.db.certificate.count({ where: { id: { in: ids } } })).toBe(records.length);
      expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId: { in: ids } } })).toBe(records.length);
      expect(lines.filter((line) => line.msg === 'request timed out' || line.msg === 'error after the response started')).toEqual([]);
    } finally {
      release?.();
      await lock.catch(() => undefined);
      await api.stop();
    }
  }, 240_000);
});
