import { readFileSync } from 'node:fs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { refusalKinds, type RefusalKind } from '../../auth/permissions.ts';
import { RefusalProblem, refusalAnswers, refusalProblem } from '../../api/problem.ts';
import { approveUpdate, rejectUpdate } from '../../workflows/certificate/definitions.ts';
import { startApiHarness, type ApiHarness, type ApiResponse } from '../support/api.ts';
import { actors } from '../support/lifecycle.ts';
import { NAP_DESTINATION, nextVin, specimenRecord } from '../support/specimen.ts';

/**
 * Every refusal kind reaches a client as its own HTTP status and code, by type and never by
 * message text: workflow Update validators (ApplicationFailure type), services (RefusedError) and
 * the route table's role check all go through the one mapping in api/problem.ts.
 */

const SAMPLE_VIN = 'VEH-1234567890';
const vecto = (name: string, vin: string) => readFileSync(new URL(`../fixtures/vecto/vehicle_sampleSingleModeDualFuel_2p4.${name}.xml`, import.meta.url), 'utf8').replaceAll(SAMPLE_VIN, vin);

let h: ApiHarness;
let tokens: Record<'erp' | 'rita' | 'selfReview' | 'hana' | 'ops' | 'release', string>;

function expectRefusal(response: ApiResponse, kind: RefusalKind, title?: string | RegExp) {
  const { status, code } = refusalAnswers[kind];
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.json).toMatchObject({ status, code, type: `https://ecoc-hub.dev/problems/${code}` });
  if (typeof title === 'string') expect(response.json.title).toBe(title);
  else if (title) expect(response.json.title).toMatch(title);
}

/** The error a direct Temporal Update ends with (the validator's refusal, before anything is recorded). */
async function updateFailure(run: () => Promise<unknown>): Promise<{ error: WorkflowUpdateFailedError; cause: ApplicationFailure }> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { error: error as WorkflowUpdateFailedError, cause: cause as ApplicationFailure };
}

async function certificateInReview(): Promise<{ id: string; vin: string }> {
  const vin = nextVin();
  const ingested = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: specimenRecord(vin) });
  expect(ingested.status).toBe(201);
  await h.lifecycle.waitForStatus(ingested.json.certificateId, 'in_review');
  return { id: ingested.json.certificateId, vin };
}

beforeAll(async () => {
  h = await startApiHarness();
  tokens = {
    erp: await h.key('erp-feed', ['integrator']),
    rita: await h.key('rita', ['reviewer']),
    selfReview: await h.key('erp-feed', ['reviewer']),
    hana: await h.key('hana', ['homologation']),
    ops: await h.key('ops', ['ops'], ['*']),
    release: await h.key('rel', ['release-manager'], ['*']),
  };
}, 300_000);
afterAll(async () => h?.stop());

test('every refusal kind has its own answer', () => {
  expect(Object.keys(refusalAnswers).sort()).toEqual([...refusalKinds].sort());
  expect(refusalAnswers).toEqual({
    forbidden: { status: 403, code: 'forbidden_role' },
    four_eyes: { status: 403, code: 'four_eyes' },
    not_allowed_in_state: { status: 409, code: 'not_allowed_in_state' },
    stale_version: { status: 409, code: 'stale_version' },
    invalid: { status: 400, code: 'invalid_request' },
    not_found: { status: 404, code: 'not_found' },
  });
});

describe('refusals from the certificate workflow and the API', { timeout: 240_000 }, () => {
  test('forbidden: the route refuses a role without the permission; a direct Update is refused by the validator with type forbidden', async () => {
    const { id } = await certificateInReview();
    expectRefusal(await h.call('POST', `/api/v1/certificates/${id}/approve`, { token: tokens.erp, body: { dataVersion: 1 } }), 'forbidden', /erp-feed has role\(s\) integrator; one of reviewer, admin is required/);
    expectRefusal(await h.call('POST', `/api/v1/certificates/${id}/retry`, { token: tokens.hana }), 'forbidden', /one of ops, admin is required/);

    // Past the API: the workflow's validator refuses on its own, typed.
    const { error, cause } = await updateFailure(() => h.lifecycle.client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [{ actor: actors.hana, dataVersion: 1 }] }));
    expect(cause.type).toBe('forbidden');
    expect(cause.message).toBe('approve: hana has role(s) homologation; one of reviewer, admin is required');
    const problem = refusalProblem(error, id);
    expect(problem).toBeInstanceOf(RefusalProblem);
    expect(problem).toMatchObject({ kind: 'forbidden', status: 403, code: 'forbidden_role', message: cause.message });
    expect((await h.lifecycle.status(id)).status).toBe('in_review');
  });

  test('four_eyes: who delivered the data cannot approve it (403); the audit record names the kind', async () => {
    const { id } = await certificateInReview();
    const response = await h.call('POST', `/api/v1/certificates/${id}/approve`, { token: tokens.selfReview, body: { dataVersion: 1 } });
    expectRefusal(response, 'four_eyes', 'four-eyes: erp-feed last changed this data and cannot approve it');
    const audit = await h.call('GET', `/api/v1/certificates/${id}/audit`, { token: tokens.rita });
    const refused = audit.json.records.find((record: { action: string; detail: { outcome?: string } }) => record.action === 'api:approve' && record.detail.outcome === 'refused');
    expect(refused).toMatchObject({ actor: 'erp-feed', detail: { outcome: 'refused', status: 403, kind: 'four_eyes', message: response.json.title } });
  });

  test('stale_version: approving a data version that is not the current one (409)', async () => {
    const { id } = await certificateInReview();
    expectRefusal(await h.call('POST', `/api/v1/certificates/${id}/approve`, { token: tokens.rita, body: { dataVersion: 7 } }), 'stale_version', 'stale approval: you reviewed data version 7, the current version is 1');
  });

  test('not_allowed_in_state: approving a certificate that is not in review, retrying one that did not fail (409)', async () => {
    const { id } = await certificateInReview();
    const rejected = await h.call('POST', `/api/v1/certificates/${id}/reject`, { token: tokens.rita, body: { reason: 'wrong mass' } });
    expect(rejected.status).toBe(200);
    expect(rejected.json.state.status).toBe('rejected');
    expectRefusal(await h.call('POST', `/api/v1/certificates/${id}/approve`, { token: tokens.rita, body: { dataVersion: 1 } }), 'not_allowed_in_state', /^cannot approve in state rejected/);
    expectRefusal(await h.call('POST', `/api/v1/certificates/${id}/retry`, { token: tokens.ops }), 'not_allowed_in_state', 'only a failed certificate can be retried (state is rejected)');
  });

  test('invalid: a direct Update with an empty reason is refused with type invalid, which the API answers 400 invalid_request', async () => {
    const { id } = await certificateInReview();
    const { error, cause } = await updateFailure(() => h.lifecycle.client.workflow.getHandle(id).executeUpdate(rejectUpdate, { args: [{ actor: actors.rita, reason: '  ' }] }));
    expect(cause.type).toBe('invalid');
    expect(refusalProblem(error, id)).toMatchObject({ kind: 'invalid', status: 400, code: 'invalid_request', message: 'a rejection needs a reason' });
    // Through the API the body schema catches it first, with the same answer.
    expectRefusal(await h.call('POST', `/api/v1/certificates/${id}/reject`, { token: tokens.rita, body: { reason: '  ' } }), 'invalid');
  });

  test('not_found: a certificate without workflow, and an unknown certificate, are 404', async () => {
    const missing = 'ecoc-WVWZZZ1JZXW999999-s1';
    // No row and no workflow: the status route asks Temporal directly (WorkflowNotFoundError).
    expectRefusal(await h.call('GET', `/api/v1/certificates/${missing}/status`, { token: tokens.ops }), 'not_found', `Certificate ${missing} was not found`);
    expectRefusal(await h.call('POST', `/api/v1/certificates/${missing}/approve`, { token: tokens.rita, body: { dataVersion: 1 } }), 'not_found', `Certificate ${missing} was not found`);
  });
});

describe('refusals from services (RefusedError) take the same mapping', { timeout: 240_000 }, () => {
  test('releases: an unknown schedule is not_found (404), a second schedule for a destination not_allowed_in_state (409)', async () => {
    expectRefusal(await h.call('GET', '/api/v1/releases/schedules/nowhere', { token: tokens.release }), 'not_found', 'no release schedule for nowhere');
    expectRefusal(await h.call('POST', '/api/v1/releases/schedules', { token: tokens.release, body: { destination: 'nowhere', every: '1h' } }), 'not_found', /^unknown destination "nowhere"/);
    const schedule = { destination: NAP_DESTINATION, every: '1h', paused: true };
    expect((await h.call('POST', '/api/v1/releases/schedules', { token: tokens.release, body: schedule })).status).toBe(201);
    try {
      expectRefusal(await h.call('POST', '/api/v1/releases/schedules', { token: tokens.release, body: schedule }), 'not_allowed_in_state', new RegExp(`^a release schedule for ${NAP_DESTINATION} already exists`));
    } finally {
      expect((await h.call('DELETE', `/api/v1/releases/schedules/${NAP_DESTINATION}`, { token: tokens.release })).status).toBe(200);
    }
  });

  test('VECTO: proposals the import did not make are invalid (400); another vehicle’s files cannot be confirmed (409)', async () => {
    const { id, vin } = await certificateInReview();
    const own = await h.call('POST', `/api/v1/certificates/${id}/vecto`, { token: tokens.erp, body: { cif: vecto('CUSTOMER', vin), mrf: vecto('RSLT_MANUFACTURER', vin) } });
    expect(own.status).toBe(201);
    expectRefusal(await h.call('POST', `/api/v1/vecto-imports/${own.json.id}/confirm`, { token: tokens.hana, body: { proposalPaths: ['VectoGroup.Nonsense'] } }), 'invalid', /^not proposed by this import: VectoGroup\.Nonsense/);
    expectRefusal(await h.call('POST', `/api/v1/vecto-imports/${own.json.id}/confirm`, { token: tokens.rita, body: {} }), 'forbidden');

    const foreign = nextVin();
    const other = await h.call('POST', `/api/v1/certificates/${id}/vecto`, { token: tokens.erp, body: { cif: vecto('CUSTOMER', foreign), mrf: vecto('RSLT_MANUFACTURER', foreign) } });
    expect(other.status).toBe(201);
    expectRefusal(await h.call('POST', `/api/v1/vecto-imports/${other.json.id}/confirm`, { token: tokens.hana, body: {} }), 'not_allowed_in_state', /CERTIFICATE_VIN_MISMATCH/);
  });
});
