import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { certificateViewSchema } from '../../schemas/api/certificates.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/jwks.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

let idp: TestIdentityProvider;
let h: ApiHarness;
let tokens: Record<'erp' | 'rita' | 'rob' | 'hana' | 'other' | 'ops' | 'admin' | 'selfReview', string>;
let inReview: string;

function expectProblem(response: { status: number; headers: Headers; json: { type?: string; code?: string; status?: number; title?: string } }, status: number, code?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.json.status).toBe(status);
  expect(response.json.type).toMatch(/^https:\/\/ecoc-hub\.dev\/problems\//);
  expect(typeof response.json.title).toBe('string');
  if (code) expect(response.json.code).toBe(code);
}

beforeAll(async () => {
  idp = await startTestIdentityProvider();
  h = await startApiHarness({
    env: { ECOC_OIDC_JWKS_URL: idp.jwksUrl, ECOC_OIDC_ISSUER: idp.issuer, ECOC_OIDC_AUDIENCE: idp.audience, ECOC_OIDC_MANUFACTURERS_CLAIM: 'ecoc.manufacturers' },
  });
  tokens = {
    erp: await h.key('erp-feed', ['integrator']),
    rita: await h.key('rita', ['reviewer']),
    rob: await h.key('rob', ['reviewer']),
    hana: await h.key('hana', ['homologation']),
    other: await h.key('other-reviewer', ['reviewer', 'integrator'], ['globex']),
    ops: await h.key('ops', ['ops'], ['*']),
    admin: await h.key('admin', ['admin'], ['*']),
    // The same person who delivered the data, now with a reviewer key: four-eyes must refuse.
    selfReview: await h.key('erp-feed', ['reviewer']),
  };
  const ingested = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: specimenRecord(nextVin()) });
  expect(ingested.status).toBe(201);
  inReview = ingested.json.certificateId;
  await h.lifecycle.waitForStatus(inReview, 'in_review');
});

afterAll(async () => {
  await h?.stop();
  await idp?.stop();
});

describe('authentication', () => {
  test('no credential is 401 on every protected route; health stays public', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/certificates'],
      ['GET', `/api/v1/certificates/${inReview}`],
      ['POST', '/api/v1/vehicles'],
      ['POST', `/api/v1/certificates/${inReview}/approve`],
      ['GET', '/api/v1/audit/export'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
    ] as const) {
      const response = await h.call(method, path);
      expectProblem(response, 401, 'unauthenticated');
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect((await h.call('GET', '/healthz')).status).toBe(200);
    const ready = await h.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks.signingCertificate.ok).toBe(true);
    expect(ready.json.checks.signingCertificate.detail).toMatch(/valid until .*\d+ days to expiry/);
  });

  test('a malformed, unknown, revoked or expired key is refused', async () => {
    expectProblem(await h.call('GET', '/api/v1/me', { token: 'ecoc_nothex_x' }), 401);
    const wrongSecret = tokens.rita.replace(/.{4}$/, 'AAAA');
    expect((await h.call('GET', '/api/v1/me', { token: wrongSecret })).json.title).toContain('not known');

    const doomed = await h.key('temp', ['reviewer']);
    expect((await h.call('GET', '/api/v1/me', { token: doomed })).status).toBe(200);
    const keyId = doomed.split('_')[1]!;
    const revoked = await h.call('POST', `/api/v1/keys/${keyId}/revoke`, { token: tokens.admin });
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedBy).toBe('admin');
    const after = await h.call('GET', '/api/v1/me', { token: doomed });
    expectProblem(after, 401, 'unauthenticated');
    expect(after.json.title).toContain('revoked');

    const expired = await h.key('old', ['reviewer'], ['acme'], { expiresAt: new Date(Date.now() - 1_000) });
    const refused = await h.call('GET', '/api/v1/me', { token: expired });
    expectProblem(refused, 401);
    expect(refused.json.title).toContain('expired');
  });

  test('an admin creates a key through the API; its token works once shown and is stored only hashed', async () => {
    const created = await h.call('POST', '/api/v1/keys', { token: tokens.admin, body: { subject: 'svc-erp', roles: ['integrator'], manufacturers: ['acme'] } });
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^ecoc_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const me = await h.call('GET', '/api/v1/me', { token: created.json.token });
    expect(me.json).toMatchObject({ subject: 'svc-erp', roles: ['integrator'], manufacturers: ['acme'], credential: { kind: 'api_key', keyId: created.json.key.keyId } });
    const row = await h.lifecycle.db.apiKey.findUniqueOrThrow({ where: { id: created.json.key.keyId } });
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(created.json.token).not.toContain(row.secretHash);
    const listed = await h.call('GET', '/api/v1/keys', { token: tokens.admin });
    expect(listed.text).not.toContain(created.json.token.split('_')[2]);
    expectProblem(await h.call('POST', '/api/v1/keys', { token: tokens.rita, body: { subject: 'x', roles: ['admin'], manufacturers: ['*'] } }), 403, 'forbidden_role');
  });

  test('an OIDC token from the configured JWKS is accepted; forged, wrong-issuer, wrong-audience and expired ones are refused', async () => {
    const claims = { sub: 'alice@acme', roles: ['reviewer'], ecoc: { manufacturers: ['acme'] } };
    const good = await h.call('GET', '/api/v1/me', { token: await idp.token(claims) });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ subject: 'alice@acme', roles: ['reviewer'], manufacturers: ['acme'], credential: { kind: 'oidc', issuer: idp.issuer } });
    expect((await h.call('GET', `/api/v1/certificates/${inReview}/status`, { token: await idp.token(claims) })).status).toBe(200);

    const forged = await h.call('GET', '/api/v1/me', { token: await idp.token(claims, { key: await idp.foreignKey() }) });
    expectProblem(forged, 401);
    expect(forged.json.title).toContain('not signed by the identity provider');
    expectProblem(await h.call('GET', '/api/v1/me', { token: await idp.token(claims, { issuer: 'https://evil.example/' }) }), 401);
    expectProblem(await h.call('GET', '/api/v1/me', { token: await idp.token(claims, { audience: 'someone-else' }) }), 401);
    const expired = await h.call('GET', '/api/v1/me', { token: await idp.token(claims, { expiresIn: Math.floor(Date.now() / 1000) - 120 }) });
    expectProblem(expired, 401);
    expect(expired.json.title).toContain('expired');
  });
});

describe('authorisation', () => {
  test('a role that may not do something gets 403 (checked at the API)', async () => {
    const response = await h.call('POST', `/api/v1/certificates/${inReview}/approve`, { token: tokens.erp, body: { dataVersion: 1 } });
    expectProblem(response, 403, 'forbidden_role');
    expect(response.json.title).toContain('reviewer');
    expectProblem(await h.call('POST', `/api/v1/certificates/${inReview}/retry`, { token: tokens.rita }), 403);
    expectProblem(await h.call('GET', '/api/v1/audit/verify', { token: tokens.rita }), 403);
  });

  test('another manufacturer’s certificate answers 404, exactly like a missing one, and is not listed', async () => {
    for (const path of [`/api/v1/certificates/${inReview}`, `/api/v1/certificates/${inReview}/status`, `/api/v1/certificates/${inReview}/message`, `/api/v1/certificates/${inReview}/audit`]) {
      expectProblem(await h.call('GET', path, { token: tokens.other }), 404, 'not_found');
    }
    const approve = await h.call('POST', `/api/v1/certificates/${inReview}/approve`, { token: tokens.other, body: { dataVersion: 1 } });
    expectProblem(approve, 404, 'not_found');
    const missing = await h.call('GET', '/api/v1/certificates/ecoc-WVWZZZ1JZXW000001-s1', { token: tokens.other });
    expect(missing.json.title).toBe(approve.json.title.replace(inReview, 'ecoc-WVWZZZ1JZXW000001-s1'));
    const listed = await h.call('GET', '/api/v1/certificates', { token: tokens.other });
    expect(listed.json.items).toEqual([]);
    const ingest = await h.call('POST', '/api/v1/vehicles', { token: tokens.other, body: specimenRecord(nextVin()) });
    expectProblem(ingest, 403, 'forbidden_manufacturer');
    // The owner's credential sees it.
    expect((await h.call('GET', '/api/v1/certificates', { token: tokens.rita, headers: {} })).json.items.map((item: { id: string }) => item.id)).toContain(inReview);
  });

  test('four-eyes: whoever delivered the data cannot approve it, even with a reviewer key (403 four_eyes with the validator’s reason)', async () => {
    const response = await h.call('POST', `/api/v1/certificates/${inReview}/approve`, { token: tokens.selfReview, body: { dataVersion: 1 } });
    expectProblem(response, 403, 'four_eyes');
    expect(response.json.title).toBe('four-eyes: erp-feed last changed this data and cannot approve it');
    const stale = await h.call('POST', `/api/v1/certificates/${inReview}/approve`, { token: tokens.rita, body: { dataVersion: 7 } });
    expectProblem(stale, 409, 'stale_version');
    expect(stale.json.title).toContain('stale approval');
    expect((await h.lifecycle.status(inReview)).status).toBe('in_review');
  });
});

describe('review through the API', () => {
  test('reviewer approves with the request id reaching the workflow; detail shows data, provenance and history; the signed XML downloads', async () => {
    const approved = await h.call('POST', `/api/v1/certificates/${inReview}/approve`, { token: tokens.rita, body: { dataVersion: 1, comment: 'checked' }, headers: { 'x-request-id': 'req-approve-1' } });
    expect(approved.status).toBe(200);
    expect(approved.json.state.status).toBe('approved');
    expect(approved.headers.get('x-request-id')).toBe('req-approve-1');
    await h.lifecycle.waitForStatus(inReview, 'awaiting_release');

    const detail = await h.call('GET', `/api/v1/certificates/${inReview}`, { token: tokens.rob });
    expect(detail.status).toBe(200);
    expect(detail.json.state.status).toBe('awaiting_release');
    expect(detail.json.data.provenance['CocDataGroup/VehicleIdentificationNumber']).toMatchObject({ source: 'api', by: 'erp-feed' });
    expect(detail.json.history.map((t: { to: string }) => t.to)).toEqual(expect.arrayContaining(['in_review', 'approved', 'signed', 'awaiting_release']));
    expect(detail.json.history.find((t: { to: string }) => t.to === 'approved').actor).toBe('rita');

    const signed = await h.call('GET', `/api/v1/certificates/${inReview}/message`, { token: tokens.rob });
    expect(signed.status).toBe(200);
    expect(signed.headers.get('content-type')).toContain('application/xml');
    expect(signed.text).toContain('<SignatureValue>');
    const stored = await h.lifecycle.db.certificateMessage.findFirstOrThrow({ where: { certificateId: inReview, signedXml: { not: null } } });
    expect(signed.text).toBe(Buffer.from(stored.signedXml!).toString('utf8'));
    const unsigned = await h.call('GET', `/api/v1/certificates/${inReview}/message?variant=unsigned`, { token: tokens.rob });
    expect(unsigned.text).not.toContain('SignatureValue');

    const audit = await h.call('GET', `/api/v1/certificates/${inReview}/audit`, { token: tokens.rob });
    const apiApprove = audit.json.records.find((record: { action: string; detail: { outcome?: string } }) => record.action === 'api:approve' && record.detail.outcome === 'accepted');
    expect(apiApprove).toMatchObject({ actor: 'rita', detail: { requestId: 'req-approve-1', fromStatus: 'in_review', toStatus: 'approved' } });
    expect(apiApprove.detail.beforeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(apiApprove.detail.afterHash).not.toBe(apiApprove.detail.beforeHash);
    const refused = audit.json.records.filter((record: { action: string; detail: { outcome?: string } }) => record.action === 'api:approve' && record.detail.outcome === 'refused');
    expect(refused.map((record: { actor: string }) => record.actor)).toEqual(expect.arrayContaining(['erp-feed', 'rita']));
    expect(audit.json.records.some((record: { action: string; actor: string }) => record.action === 'status:approved' && record.actor === 'rita')).toBe(true);
  });

  test('the live state is the API’s view of the workflow state, without workflow-internal fields', async () => {
    // Its own certificate: the one ingested before all tests is approved by the test above.
    const ingested = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: specimenRecord(nextVin()) });
    const id: string = ingested.json.certificateId;
    await h.lifecycle.waitForStatus(id, 'in_review');
    // The row follows the workflow with its next audit write: poll until it shows the review.
    const read = () => h.call('GET', `/api/v1/certificates/${id}/status?live=true`, { token: tokens.rob });
    await expect.poll(async () => (await read()).json?.status, { timeout: 15_000 }).toBe('in_review');
    const status = await read();
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ id, status: 'in_review' });
    const detail = await h.call('GET', `/api/v1/certificates/${id}`, { token: tokens.rob });
    for (const state of [status.json.live, detail.json.state]) {
      expect(certificateViewSchema.strict().safeParse(state).error).toBeUndefined();
      for (const internal of ['dataHash', 'messageHash', 'releaseImmediately', 'carried']) expect(state).not.toHaveProperty(internal);
    }
    expect(status.json.live).toMatchObject({ certificateId: id, submittedBy: 'erp-feed', dataVersion: 1, releaseRequested: false });
  });

  test('list filters by status, VIN and type-approval number with keyset pages', async () => {
    const records = [nextVin(), nextVin(), nextVin()].map((vin) => specimenRecord(vin));
    const batch = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: { records: [records[0], { vin: 'bad' }, records[1], records[2]] } });
    expect(batch.status).toBe(200);
    expect(batch.json).toMatchObject({ accepted: 3, rejected: 1 });
    expect(batch.json.results[1]).toMatchObject({ index: 1, ok: false, code: 'invalid_record' });
    expect(batch.json.results[1].errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['vin', 'manufacturerId']));
    const byVin = await h.call('GET', `/api/v1/certificates?vin=${records[1]!.vin}`, { token: tokens.ops });
    expect(byVin.json.items.map((item: { vin: string }) => item.vin)).toEqual([records[1]!.vin]);
    const ids: string[] = [];
    const pages: number[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page = await h.call('GET', `/api/v1/certificates?typeApprovalNumber=${encodeURIComponent(records[0]!.typeApprovalNumber)}&limit=2${cursor ? `&after=${cursor}` : ''}`, { token: tokens.ops });
      pages.push(page.json.items.length);
      ids.push(...page.json.items.map((item: { id: string }) => item.id));
      cursor = page.json.nextCursor;
    }
    expect(new Set(ids).size).toBe(ids.length);
    // The certificates of the tests above (approved, and the live-state one) and the three accepted
    // batch records, in pages of two: nothing twice, nothing more.
    expect(ids.length).toBe(5);
    expect(pages).toEqual([2, 2, 1]);
    const awaiting = await h.call('GET', '/api/v1/certificates?status=awaiting_release&status=delivered', { token: tokens.ops });
    expect(awaiting.json.items.map((item: { id: string }) => item.id)).toContain(inReview);
    expectProblem(await h.call('GET', '/api/v1/certificates?status=nonsense', { token: tokens.ops }), 400, 'invalid_request');
  });
});
