import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { approveUpdate, rejectUpdate, withdrawUpdate } from '../../workflows/certificate/definitions.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { actors } from '../support/lifecycle.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

/**
 * Controls that an adversarial test found bypassable, each on the real stack: withdrawal is
 * final, four-eyes covers every author of the data version, and the workflow never accepts text
 * its activities could not store.
 */
let h: ApiHarness;
let tokens: Record<'erp' | 'rita' | 'rob' | 'hana' | 'hugo' | 'release', string>;

beforeAll(async () => {
  h = await startApiHarness();
  tokens = {
    erp: await h.key('erp-feed', ['integrator']),
    rita: await h.key('rita', ['reviewer']),
    rob: await h.key('rob', ['reviewer']),
    hana: await h.key('hana', ['homologation']),
    hugo: await h.key('hugo', ['homologation', 'reviewer']),
    release: await h.key('rel', ['release-manager']),
  };
});

afterAll(async () => {
  await h?.stop();
});

async function ingestToReview(record = specimenRecord(nextVin())) {
  const ingested = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: record });
  expect(ingested.status).toBe(201);
  const certificateId: string = ingested.json.certificateId;
  const state = await h.lifecycle.waitForStatus(certificateId, 'in_review');
  return { certificateId, record, state };
}

function correct(certificateId: string, token: string, path: string, value: unknown) {
  return h.call('POST', `/api/v1/certificates/${certificateId}/corrections`, { token, body: { reason: `set ${path}`, corrections: [{ path, value }] } });
}

describe('withdrawal is final', () => {
  test('after delivery and withdrawal, the identical record and new data are refused with 409, no new workflow run starts, and the database knows', async () => {
    const { certificateId, record, state } = await ingestToReview();
    expect((await h.call('POST', `/api/v1/certificates/${certificateId}/approve`, { token: tokens.rita, body: { dataVersion: state.dataVersion } })).status).toBe(200);
    await h.lifecycle.waitForStatus(certificateId, 'awaiting_release');
    expect((await h.call('POST', `/api/v1/certificates/${certificateId}/release-now`, { token: tokens.release })).status).toBe(200);
    await h.lifecycle.waitForStatus(certificateId, 'acknowledged', 60_000);
    expect((await h.call('POST', `/api/v1/certificates/${certificateId}/withdraw`, { token: tokens.hana, body: { reason: 'vehicle destroyed' } })).status).toBe(200);
    await h.lifecycle.waitForStatus(certificateId, 'withdrawn');
    await h.lifecycle.client.workflow.getHandle(certificateId).result();
    const versionsBefore = await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId } });
    await expect.poll(async () => (await h.lifecycle.db.certificate.findUniqueOrThrow({ where: { id: certificateId } })).status, { timeout: 15_000 }).toBe('withdrawn');

    const again = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: record });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('not_allowed_in_state');
    expect(again.json.title).toMatch(/was withdrawn on .*stays withdrawn/);
    const changed = { ...record, values: { ...record.values, MaximumSpeed: 133 } };
    expect((await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: changed })).status).toBe(409);

    const runs = [];
    for await (const execution of h.lifecycle.client.workflow.list({ query: `WorkflowId = "${certificateId}"` })) runs.push(execution.runId);
    expect(runs).toHaveLength(1);
    expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId } })).toBe(versionsBefore);
    expect((await h.lifecycle.status(certificateId)).status).toBe('withdrawn');
    expect((await h.lifecycle.nap.received(record.vin))?.messages).toHaveLength(1);
  });

  test('data sent while a withdrawal is pending is refused and not kept as a data version', async () => {
    const { certificateId, record } = await ingestToReview();
    const handle = h.lifecycle.client.workflow.getHandle(certificateId);
    await handle.executeUpdate(withdrawUpdate, { args: [{ actor: actors.hana, reason: 'sold outside the EU' }] });
    const versions = await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId } });
    const changed = { ...record, values: { ...record.values, MaximumSpeed: 134 } };
    const refused = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: changed });
    expect(refused.status).toBe(409);
    expect(await h.lifecycle.db.certificateDataVersion.count({ where: { certificateId } })).toBe(versions);
  });
});

describe('four-eyes covers every author of the data version', () => {
  test('who corrected a value cannot approve after someone else corrected later, or after the ERP re-sent the record', async () => {
    const { certificateId, record } = await ingestToReview();
    expect((await correct(certificateId, tokens.hugo, 'MaximumSpeed', 151)).status).toBe(200);
    expect((await correct(certificateId, tokens.hana, 'MetricImperialOdometer', 'M')).status).toBe(200);
    let state = await h.lifecycle.waitForStatus(certificateId, 'in_review');
    expect(state.lastChangedBy).toBe('hana');
    const refused = await h.call('POST', `/api/v1/certificates/${certificateId}/approve`, { token: tokens.hugo, body: { dataVersion: state.dataVersion } });
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe('four_eyes');
    expect(refused.json.title).toMatch(/hugo authored values of data version/);

    // The ERP sends the record again (a new version from erp-feed); hugo's correction stays on top, so hugo is still an author.
    const resent = await h.call('POST', '/api/v1/vehicles', { token: tokens.erp, body: { ...record, values: { ...record.values, MaximumSpeed: 150 } } });
    expect(resent.status).toBe(200);
    await expect.poll(async () => (await h.lifecycle.status(certificateId)).lastChangedBy, { timeout: 15_000 }).toBe('erp-feed');
    state = await h.lifecycle.waitForStatus(certificateId, 'in_review');
    expect(state.authors).toEqual(expect.arrayContaining(['erp-feed', 'hugo', 'hana']));
    const stillRefused = await h.call('POST', `/api/v1/certificates/${certificateId}/approve`, { token: tokens.hugo, body: { dataVersion: state.dataVersion } });
    expect(stillRefused.json.code).toBe('four_eyes');
    expect((await h.call('POST', `/api/v1/certificates/${certificateId}/approve`, { token: tokens.rob, body: { dataVersion: state.dataVersion } })).status).toBe(200);
  });
});

describe('the workflow never accepts text its activities cannot store', () => {
  test('a NUL or an unpaired surrogate in an Update sent straight to Temporal is refused as invalid, and the certificate lives on', async () => {
    const { certificateId, state } = await ingestToReview();
    const handle = h.lifecycle.client.workflow.getHandle(certificateId);
    for (const [update, args] of [
      [rejectUpdate, { actor: actors.rita, reason: 'bad\u0000reason' }],
      [rejectUpdate, { actor: actors.rita, reason: 'half \ud800 pair' }],
      [approveUpdate, { actor: actors.rita, dataVersion: state.dataVersion, comment: 'ok\u0000' }],
      [withdrawUpdate, { actor: actors.hana, reason: '\udc00' }],
    ] as const) {
      const error = await handle.executeUpdate(update as typeof rejectUpdate, { args: [args as never] }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (error as WorkflowUpdateFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('invalid');
    }
    expect((await h.lifecycle.status(certificateId)).status).toBe('in_review');
    expect((await h.call('POST', `/api/v1/certificates/${certificateId}/approve`, { token: tokens.rita, body: { dataVersion: state.dataVersion, comment: 'fine' } })).status).toBe(200);
  });
});
