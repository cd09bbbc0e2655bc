import { afterAll, beforeAll, expect, test } from 'vitest';
import { mapWithConcurrency } from '../../platform/concurrency.ts';
import { approveBodySchema, correctBodySchema, reasonBodySchema, reassignBodySchema } from '../../schemas/api/certificates.ts';
import { vehicleRecordSchema } from '../../schemas/vehicle-record.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { seededRandom } from '../support/fuzz.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

const SEED = 20261122;
const CASES = 3_000;

let h: ApiHarness;
let integrator: string;
let reviewer: string;
let homologation: string;
let certificateId: string;
let valid: Record<string, unknown>;

beforeAll(async () => {
  h = await startApiHarness();
  integrator = await h.key('erp-feed', ['integrator']);
  reviewer = await h.key('rita', ['reviewer']);
  homologation = await h.key('hana', ['homologation', 'reviewer']);
  valid = specimenRecord(nextVin()) as unknown as Record<string, unknown>;
  const ingested = await h.call('POST', '/api/v1/vehicles', { token: integrator, body: valid });
  certificateId = ingested.json.certificateId;
  await h.lifecycle.waitForStatus(certificateId, 'in_review');
});
afterAll(async () => h?.stop());

type Case = { method: 'POST' | 'GET'; path: string; token: string; raw?: string | Uint8Array<ArrayBuffer>; body?: unknown; contentType?: string };

/** Texts the text rule refuses everywhere: NUL, unpaired surrogates (both halves), longer than any field allows. */
const HOSTILE_TEXTS = ['nul\u0000inside', '\u0000', 'high\uD800alone', '\uDFFFlow first', 'pair\uDBFF', 'x'.repeat(5_000), `${'y'.repeat(2_001)}\u0000`];

function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (max: number) => Math.floor(random() * max);
  const text = (max: number) => Array.from({ length: int(max) }, () => String.fromCharCode(pick([32 + int(95), int(0x2fff), 0]))).join('');
  const scalar = (): unknown => pick([() => null, () => true, () => int(1e9) - 5e8, () => random() * 1e12, () => -0, () => text(40), () => '', () => 'x'.repeat(5_000), () => pick(HOSTILE_TEXTS)])();
  const value = (depth: number): unknown =>
    depth <= 0 || random() < 0.5
      ? scalar()
      : random() < 0.5
        ? Array.from({ length: int(5) }, () => value(depth - 1))
        : Object.fromEntries(Array.from({ length: int(5) }, () => [pick(['vin', 'records', 'dataVersion', 'reason', 'owner', 'corrections', 'path', 'value', '__proto__', 'constructor', text(8)]), value(depth - 1)]));
  /** A valid record with one thing broken: the shape the API must refuse field by field. */
  const brokenRecord = (): unknown => {
    const record: Record<string, unknown> = structuredClone(valid);
    const field = pick(['manufacturerId', 'vin', 'stage', 'typeApprovalNumber', 'variant', 'version', 'destination', 'intendedCountryRegistration', 'values']);
    if (random() < 0.3) delete record[field];
    else record[field] = value(2);
    if (random() < 0.3 && record.values && typeof record.values === 'object' && !Array.isArray(record.values)) {
      (record.values as Record<string, unknown>)[pick(['MassGroup', 'VehicleIdentificationNumber', 'NumberOfAxles', text(6)])] = value(2);
    }
    return record;
  };
  const invalidJson = () => pick(['{', '{"vin":', '[1,2', '{"a":1}}', 'nul', '"\\u12"', '{"a":NaN}', text(30)]);

  /** A valid request with one text made hostile: only the text rule refuses it. */
  const hostileText = (): Case => {
    const hostile = pick(HOSTILE_TEXTS);
    if (random() < 0.5) {
      const record: Record<string, unknown> = specimenRecord(nextVin()) as unknown as Record<string, unknown>;
      const field = pick(['manufacturerId', 'destination', 'variant', 'version', 'typeApprovalNumber', 'values.DescriptionCompletedAltered', 'values.Type']);
      if (field.startsWith('values.')) (record.values as Record<string, unknown>)[field.slice('values.'.length)] = hostile;
      else record[field] = hostile;
      return { method: 'POST', path: '/api/v1/vehicles', token: integrator, body: random() < 0.3 ? { records: [record] } : record };
    }
    const [segment, body, token] = pick([
      ['reject', { reason: hostile }, reviewer],
      ['approve', { dataVersion: 1, comment: hostile }, reviewer],
      ['reassign', { owner: hostile }, homologation],
      ['withdraw', { reason: hostile }, homologation],
      ['corrections', { reason: hostile, corrections: [{ path: 'MassGroup/ActualMass', value: 1500 }] }, homologation],
      ['corrections', { reason: 'typo', corrections: [{ path: 'DescriptionCompletedAltered', value: hostile }] }, homologation],
      ['corrections', { reason: 'typo', corrections: [{ path: 'Type', value: 'E1', reason: hostile }] }, homologation],
    ] as const);
    return { method: 'POST', path: `/api/v1/certificates/${certificateId}/${segment}`, token, body };
  };
  /** Valid JSON with one byte that is not UTF-8 inside a string. */
  const invalidUtf8 = (): Case => {
    const [path, json, token] = pick([
      ['/api/v1/vehicles', JSON.stringify(specimenRecord(nextVin(), { destination: 'nap-@' })), integrator],
      [`/api/v1/certificates/${certificateId}/reject`, JSON.stringify({ reason: 'wrong @ data' }), reviewer],
      [`/api/v1/certificates/${certificateId}/reassign`, JSON.stringify({ owner: 'ri@' }), homologation],
    ] as const);
    const bytes = Buffer.from(json);
    bytes[bytes.indexOf('@')] = pick([0x80, 0xc0, 0xe9, 0xed, 0xf5, 0xff]);
    return { method: 'POST', path, token, raw: new Uint8Array(bytes), contentType: 'application/json' };
  };
  /** Query strings with a NUL or longer than any filter allows. */
  const hostileQuery = (): Case => {
    const value = pick(['a%00b', '%00', 'x'.repeat(101), `${'x'.repeat(50)}%00`]);
    const [path, field] = pick([
      ['/api/v1/certificates', pick(['vin', 'typeApprovalNumber', 'destination', 'owner', 'batchId', 'manufacturerId'])],
      ['/api/v1/console/queue', pick(['vin', 'typeApprovalNumber', 'destination'])],
    ] as const);
    return { method: 'GET', path: `${path}?${field}=${value}`, token: reviewer };
  };

  return (): Case => {
    const kind = int(14);
    if (kind >= 10) return kind < 12 ? hostileText() : kind < 13 ? invalidUtf8() : hostileQuery();
    if (kind < 4) {
      // Ingest: broken records, random values, broken batch envelopes (invalid by construction; checked below).
      const body = pick([brokenRecord, () => value(3), () => ({ records: value(1) }), () => ({ records: [] }), () => ({ records: [valid], extra: value(1) })])();
      if (vehicleRecordSchema.safeParse(body).success) return { method: 'POST', path: '/api/v1/vehicles', token: integrator, body: { records: [] } };
      return { method: 'POST', path: '/api/v1/vehicles', token: integrator, body };
    }
    if (kind < 5) return { method: 'POST', path: pick(['/api/v1/vehicles', `/api/v1/certificates/${certificateId}/approve`]), token: pick([integrator, reviewer]), raw: invalidJson(), contentType: 'application/json' };
    if (kind < 6) return { method: 'POST', path: '/api/v1/vehicles', token: integrator, raw: text(50), contentType: pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) };
    // Review routes with bodies the schema refuses, on the real certificate or a random id.
    const [segment, schema, token] = pick([
      ['approve', approveBodySchema, reviewer],
      ['reject', reasonBodySchema, reviewer],
      ['reassign', reassignBodySchema, homologation],
      ['corrections', correctBodySchema, homologation],
      ['withdraw', reasonBodySchema, homologation],
    ] as const);
    let body = random() < 0.5 ? value(3) : { dataVersion: value(1), reason: value(1), owner: value(1), corrections: value(2), comment: value(1) };
    if (schema.safeParse(body).success) body = { ...(body as object), unexpected: true };
    const id = random() < 0.85 ? certificateId : pick(['x', 'ecoc-', `ecoc-${text(17)}-s1`, '..%2f..%2fetc', `ecoc-WVWZZZ1JZXW00000${int(9)}-s${int(1000)}`]);
    return { method: 'POST', path: `/api/v1/certificates/${encodeURIComponent(id).replace(/%2F/gi, '/')}/${segment}`, token, body };
  };
}

test(`${CASES} generated invalid payloads to ingest and review routes (NUL, unpaired surrogates, oversized texts, bytes that are not UTF-8 included): only 4xx problem answers, the server stays up, nothing changes`, async () => {
  const next = generator(seededRandom(SEED));
  const cases = Array.from({ length: CASES }, next);
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  await mapWithConcurrency(cases, 16, async (item, index) => {
    const response = await fetch(`${h.url}${item.path}`, {
      method: item.method,
      headers: { authorization: `Bearer ${item.token}`, ...(item.method === 'POST' ? { 'content-type': item.contentType ?? 'application/json' } : {}) },
      ...(item.method === 'POST' ? { body: item.raw ?? JSON.stringify(item.body) } : {}),
    });
    const text = await response.text();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    const problem = (() => {
      try {
        return JSON.parse(text) as { status?: number; code?: string; title?: string };
      } catch {
        return undefined;
      }
    })();
    const ok =
      response.status >= 400 &&
      response.status < 500 &&
      (response.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
      problem?.status === response.status &&
      typeof problem.code === 'string' &&
      typeof problem.title === 'string';
    const sent = typeof item.raw === 'string' ? item.raw : item.raw ? `bytes ${Buffer.from(item.raw).toString('hex').slice(0, 80)}…` : JSON.stringify(item.body)?.slice(0, 200);
    if (!ok && failures.length < 5) failures.push(`case ${index} (seed ${SEED}): ${item.method} ${item.path.slice(0, 200)} ${sent} -> ${response.status} ${text.slice(0, 200)}`);
  });
  expect(failures).toEqual([]);
  expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
  expect(statuses.get(400)).toBeGreaterThan(CASES / 4);
  expect((await h.call('GET', '/healthz')).status).toBe(200);
  // Nothing got through: the certificate is still in review at data version 1, and no other certificate exists.
  const state = await h.lifecycle.status(certificateId);
  expect(state).toMatchObject({ status: 'in_review', dataVersion: 1 });
  expect(await h.lifecycle.db.certificate.count()).toBe(1);
}, 300_000);
