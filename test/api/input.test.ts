import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { certificateIdSchema, STAGE_MAX } from '../../schemas/certificate-id.ts';
import { startApiHarness, type ApiHarness, type ApiResponse } from '../support/api.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

/** The input rules at the door: the text rule, limits, UTF-8 only, stage range, typed corrections. */

let h: ApiHarness;
let integrator: string;
let reviewer: string;
let homologation: string;
let ops: string;
let inReview: string;

beforeAll(async () => {
  h = await startApiHarness();
  integrator = await h.key('erp-feed', ['integrator']);
  reviewer = await h.key('rita', ['reviewer']);
  homologation = await h.key('hana', ['homologation']);
  ops = await h.key('ops', ['ops'], ['*']);
  const ingested = await h.call('POST', '/api/v1/vehicles', { token: integrator, body: specimenRecord(nextVin()) });
  expect(ingested.status).toBe(201);
  inReview = ingested.json.certificateId;
  await h.lifecycle.waitForStatus(inReview, 'in_review');
});
afterAll(async () => h?.stop());

/** A 400 problem that names the field (in `errors` and in the title) and what is wrong with it. */
function expectFieldRefused(response: ApiResponse, path: string, message: RegExp, code = 'invalid_request') {
  expect(response.status, `${path}: ${response.text.slice(0, 300)}`).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.json.code).toBe(code);
  expect(response.json.errors).toContainEqual({ path, message: expect.stringMatching(message) });
}

/** Nothing of this VIN was stored or started. */
async function expectNothingStored(vin: string, stage = 1) {
  const certificateId = `ecoc-${vin}-s${stage}`;
  expect(await h.lifecycle.db.certificate.count({ where: { vin } })).toBe(0);
  expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId } })).toBe(0);
  await expect(h.lifecycle.client.workflow.getHandle(certificateId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  expect((await h.call('GET', `/api/v1/certificates?vin=${vin}`, { token: ops })).json.items).toEqual([]);
}

describe('the text rule', () => {
  test('NUL, XML-forbidden control characters and unpaired surrogates are refused with 400 naming the field at every entry (review actions, corrections, ingest, query strings); the certificate stays alive', async () => {
    const nul = 'bad\u0000text';
    const lone = 'bad\uD800text';
    const certificate = `/api/v1/certificates/${inReview}`;
    const refusals: [ApiResponse, string, RegExp][] = [
      [await h.call('POST', `${certificate}/reject`, { token: reviewer, body: { reason: nul } }), 'reason', /^contains a NUL character at position 4$/],
      [await h.call('POST', `${certificate}/approve`, { token: reviewer, body: { dataVersion: 1, comment: lone } }), 'comment', /^contains an unpaired surrogate \(U\+D800\) at position 4$/],
      [await h.call('POST', `${certificate}/reassign`, { token: homologation, body: { owner: nul } }), 'owner', /NUL character/],
      [await h.call('POST', `${certificate}/withdraw`, { token: homologation, body: { reason: lone } }), 'reason', /unpaired surrogate/],
      [await h.call('POST', `${certificate}/corrections`, { token: homologation, body: { reason: nul, corrections: [{ path: 'MassGroup/ActualMass', value: 1500 }] } }), 'reason', /NUL character/],
      [
        await h.call('POST', `${certificate}/corrections`, { token: homologation, body: { reason: 'typo', corrections: [{ path: 'DescriptionCompletedAltered', value: lone }] } }),
        'corrections.0.value',
        /^CocDataGroup\/DescriptionCompletedAltered: contains an unpaired surrogate/,
      ],
      [await h.call('POST', '/api/v1/vehicles', { token: integrator, body: specimenRecord(nextVin(), { destination: nul }) }), 'destination', /NUL character/],
      [await h.call('POST', '/api/v1/vehicles', { token: integrator, body: specimenRecord(nextVin(), { variant: lone }) }), 'variant', /unpaired surrogate/],
      // Not writable to XML 1.0: refused at the door, not when the message is generated.
      [await h.call('POST', '/api/v1/vehicles', { token: integrator, body: specimenRecord(nextVin(), { variant: 'V\u0007A' }) }), 'variant', /^contains the control character U\+0007 at position 2$/],
      [await h.call('GET', '/api/v1/certificates?owner=a%00b', { token: ops }), 'owner', /NUL character at position 2/],
      [await h.call('GET', '/api/v1/console/queue?destination=a%00b', { token: ops }), 'destination', /NUL character/],
    ];
    for (const [response, path, message] of refusals) {
      expectFieldRefused(response, path, message);
      expect(response.json.title).toContain(`${path}: `);
    }
    // A queue cursor is decoded from base64: the id inside it is under the same rule (it was a 500).
    const cursor = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', nul])).toString('base64url');
    expectFieldRefused(await h.call('GET', `/api/v1/console/queue?after=${cursor}`, { token: ops }), 'after', /not a cursor from a previous page/);
    // In a batch, the record's result names the field the same way.
    const batch = await h.call('POST', '/api/v1/vehicles', { token: integrator, body: { records: [specimenRecord(nextVin(), { manufacturerId: nul })] } });
    expect(batch.status).toBe(422);
    expect(batch.json.results[0]).toMatchObject({ ok: false, code: 'invalid_record', message: expect.stringContaining('manufacturerId: contains a NUL character'), errors: [{ path: 'manufacturerId' }] });

    // Nothing reached the workflow: it still answers, in review at data version 1, and takes the next valid decision.
    expect(await h.lifecycle.status(inReview)).toMatchObject({ status: 'in_review', dataVersion: 1 });
    expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId: inReview } })).toBe(1);
    const reassigned = await h.call('POST', `${certificate}/reassign`, { token: homologation, body: { owner: 'rita' } });
    expect(reassigned.status).toBe(200);
    expect(reassigned.json.state).toMatchObject({ status: 'in_review', owner: 'rita' });
    expect((await h.call('GET', certificate, { token: ops })).status).toBe(200);
  });
});

describe('limits', () => {
  test('a 5,000-character destination or manufacturerId is refused with 400 and nothing is stored: no certificate, no data version, no workflow', async () => {
    for (const field of ['destination', 'manufacturerId'] as const) {
      const vin = nextVin();
      const record = specimenRecord(vin, { [field]: 'x'.repeat(5_000) });
      expectFieldRefused(await h.call('POST', '/api/v1/vehicles', { token: integrator, body: record }), field, /^is longer than 100 characters \(5000\)$/);
      const batch = await h.call('POST', '/api/v1/vehicles', { token: integrator, body: { records: [record] } });
      expect(batch.status).toBe(422);
      expect(batch.json.results[0].errors).toEqual([{ path: field, message: 'is longer than 100 characters (5000)' }]);
      await expectNothingStored(vin);
    }
  });
});

describe('encodings and shapes', () => {
  test('a JSON body that is not valid UTF-8 is refused with 400 invalid_encoding instead of being stored with U+FFFD; so is another charset', async () => {
    const vin = nextVin();
    const json = JSON.stringify(specimenRecord(vin, { destination: 'nap-PLACEHOLDER' }));
    const [before, after] = json.split('PLACEHOLDER') as [string, string];
    const body = Buffer.concat([Buffer.from(before), Buffer.from([0x62, 0xe9, 0x65]), Buffer.from(after)]); // "bée" in ISO-8859-1
    const post = (payload: Buffer, contentType = 'application/json') =>
      fetch(`${h.url}/api/v1/vehicles`, { method: 'POST', headers: { authorization: `Bearer ${integrator}`, 'content-type': contentType }, body: new Uint8Array(payload) });
    const refused = await post(body);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ code: 'invalid_encoding', title: 'The body must be valid UTF-8', detail: `The body is not valid UTF-8 (byte 0xE9 at offset ${Buffer.byteLength(before) + 1})` });
    const utf16 = await post(Buffer.from(json, 'utf16le'), 'application/json; charset=utf-16le');
    expect(utf16.status).toBe(400);
    expect(await utf16.json()).toMatchObject({ code: 'invalid_encoding', detail: expect.stringContaining('charset utf-16le is not accepted') });
    await expectNothingStored(vin);
  });

  test('stage range and certificate id come from one definition: stage 1000 is refused, the highest stage gives a certificate the API serves by its id', async () => {
    const refusedVin = nextVin();
    expectFieldRefused(await h.call('POST', '/api/v1/vehicles', { token: integrator, body: specimenRecord(refusedVin, { stage: STAGE_MAX + 1 }) }), 'stage', /stage must be 1 to 999/);
    await expectNothingStored(refusedVin, STAGE_MAX + 1);
    expect(certificateIdSchema.safeParse(`ecoc-${refusedVin}-s${STAGE_MAX + 1}`).success).toBe(false);

    const vin = nextVin();
    const created = await h.call('POST', '/api/v1/vehicles', { token: integrator, body: specimenRecord(vin, { stage: STAGE_MAX }) });
    expect(created.status).toBe(201);
    expect(created.json.certificateId).toBe(`ecoc-${vin}-s${STAGE_MAX}`);
    for (const path of ['', '/status', '/versions']) expect((await h.call('GET', `/api/v1/certificates/${created.json.certificateId}${path}`, { token: ops })).status, path).toBe(200);
  });

  test('a correction whose value is not of its IVI field’s type is refused with 400 at the door, and nothing is stored', async () => {
    const corrections = `/api/v1/certificates/${inReview}/corrections`;
    const versionsBefore = await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId: inReview } });
    const cases: [unknown, string, RegExp][] = [
      [{ path: 'MassGroup/ActualMass', value: 'heavy' }, 'corrections.0.value', /^CocDataGroup\/MassGroup\/ActualMass: .*expected number/],
      [{ path: 'MassGroup/ActualMass', value: 1.5 }, 'corrections.0.value', /^CocDataGroup\/MassGroup\/ActualMass: .*int/i],
      [{ path: 'Type', value: 'x'.repeat(16) }, 'corrections.0.value', /^CocDataGroup\/Type: is longer than 15 characters \(16\)$/],
      [{ path: 'AxleTable/AxleGroup[1]', value: { Wheels: 2 } }, 'corrections.0.value', /^CocDataGroup\/AxleTable\/AxleGroup\[1\]: .*Wheels/],
      [{ path: 'MassGroup/ActualMas', value: 1500 }, 'corrections.0.path', /ActualMas is not an element of MassGroup/],
    ];
    for (const [correction, path, message] of cases) {
      expectFieldRefused(await h.call('POST', corrections, { token: homologation, body: { reason: 'wrong type', corrections: [correction] } }), path, message);
    }
    expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId: inReview } })).toBe(versionsBefore);
    expect(await h.lifecycle.status(inReview)).toMatchObject({ status: 'in_review', dataVersion: versionsBefore });
  });
});
