import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { NAP_DESTINATION, nextVin, specimenRecord } from '../support/specimen.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vecto/${name}`, import.meta.url), 'utf8');

let h: ApiHarness;
let keys: Record<'erp' | 'hana' | 'release' | 'releaseAcme' | 'other', string>;
let certificateId: string;

beforeAll(async () => {
  h = await startApiHarness();
  keys = {
    erp: await h.key('erp-feed', ['integrator']),
    hana: await h.key('hana', ['homologation']),
    release: await h.key('rel', ['release-manager'], ['*']),
    releaseAcme: await h.key('rel-acme', ['release-manager'], ['acme']),
    other: await h.key('globex-erp', ['integrator', 'homologation'], ['globex']),
  };
  const ingested = await h.call('POST', '/api/v1/vehicles', { token: keys.erp, body: specimenRecord(nextVin()) });
  certificateId = ingested.json.certificateId;
});
afterAll(async () => h?.stop());

test('VECTO upload stores proposals for the certificate; other manufacturers get 404, unreadable files 422', async () => {
  const body = { cif: fixture('vehicle_sampleSingleModeDualFuel_2p4.CUSTOMER.xml'), mrf: fixture('vehicle_sampleSingleModeDualFuel_2p4.RSLT_MANUFACTURER.xml') };
  const uploaded = await h.call('POST', `/api/v1/certificates/${certificateId}/vecto`, { token: keys.erp, body });
  expect(uploaded.status).toBe(201);
  expect(uploaded.json).toMatchObject({ certificateId, status: 'proposed', importedBy: 'erp-feed', hashCheck: { matches: true } });
  expect(uploaded.json.proposals.length).toBeGreaterThan(0);
  // The sample files belong to another VIN: stored, with the mismatch as a finding for the reviewer.
  expect(uploaded.json.findings.map((finding: { code: string }) => finding.code)).toContain('CERTIFICATE_VIN_MISMATCH');
  expect(await h.lifecycle.db.vectoImport.count({ where: { certificateId } })).toBe(1);

  const foreign = await h.call('POST', `/api/v1/certificates/${certificateId}/vecto`, { token: keys.other, body });
  expect(foreign.status).toBe(404);
  const confirmForeign = await h.call('POST', `/api/v1/vecto-imports/${uploaded.json.id}/confirm`, { token: keys.other, body: {} });
  expect(confirmForeign.status).toBe(404);
  const unreadable = await h.call('POST', `/api/v1/certificates/${certificateId}/vecto`, { token: keys.erp, body: { cif: '<nope/>', mrf: '<nope/>' } });
  expect(unreadable.status).toBe(422);
  expect(unreadable.json.code).toBe('invalid_vecto_file');
  expect((await h.call('POST', `/api/v1/vecto-imports/${uploaded.json.id}/confirm`, { token: keys.erp, body: {} })).status).toBe(403);
});

test('release schedules through the API: create, list, describe, pause, delete; runs start and report progress; scope and role enforced', async () => {
  const created = await h.call('POST', '/api/v1/releases/schedules', { token: keys.release, body: { destination: NAP_DESTINATION, every: '1h', paused: true, note: 'api test' } });
  expect(created.status).toBe(201);
  expect(created.json).toMatchObject({ destination: NAP_DESTINATION, paused: true, everyMs: 3_600_000 });
  expect((await h.call('POST', '/api/v1/releases/schedules', { token: keys.release, body: { destination: NAP_DESTINATION, every: '1h' } })).status).toBe(409);
  const listed = await h.call('GET', '/api/v1/releases/schedules', { token: keys.release });
  expect(listed.json.schedules.map((schedule: { destination: string }) => schedule.destination)).toContain(NAP_DESTINATION);
  expect((await h.call('GET', '/api/v1/releases/schedules', { token: keys.releaseAcme })).status).toBe(403);
  expect((await h.call('GET', '/api/v1/releases/schedules', { token: keys.erp })).status).toBe(403);
  const unpaused = await h.call('POST', `/api/v1/releases/schedules/${NAP_DESTINATION}/unpause`, { token: keys.release, body: { note: 'go' } });
  expect(unpaused.json.paused).toBe(false);
  const invalid = await h.call('POST', `/api/v1/releases/schedules/${NAP_DESTINATION}/backfill`, { token: keys.release, body: { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' } });
  expect(invalid.status).toBe(400);
  expect((await h.call('DELETE', `/api/v1/releases/schedules/${NAP_DESTINATION}`, { token: keys.release })).json).toEqual({ scheduleId: created.json.scheduleId, deleted: true });
  expect((await h.call('GET', `/api/v1/releases/schedules/${NAP_DESTINATION}`, { token: keys.release })).status).toBe(404);

  const run = await h.call('POST', `/api/v1/releases/${NAP_DESTINATION}/run`, { token: keys.release, body: {} });
  expect(run.status).toBe(202);
  expect(run.json.workflowId).toContain(NAP_DESTINATION);
  const progress = await h.call('GET', `/api/v1/releases/${NAP_DESTINATION}`, { token: keys.release });
  expect(progress.status).toBe(200);
  expect(progress.json.progress.destination).toBe(NAP_DESTINATION);
  const audit = await h.lifecycle.db.auditRecord.findMany({ where: { action: { startsWith: 'api:release' } }, select: { action: true, actor: true } });
  expect(audit.map((record) => record.action)).toEqual(expect.arrayContaining(['api:release_schedule_created', 'api:release_schedule_unpause', 'api:release_schedule_deleted', 'api:release_run']));
});
