import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANUFACTURER, demoApproval } from '../../demo/load.ts';
import { createTypeApprovalRepository } from '../../ivi/type-approvals/repository.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';

/** GET /api/v1/vehicles/template: what a vehicle record must carry for a published variant/version. */
describe('vehicle template', () => {
  let h: ApiHarness;
  const approval = demoApproval();
  const [first] = approval.versions;
  const path = (overrides: Record<string, string> = {}) =>
    `/api/v1/vehicles/template?${new URLSearchParams({ manufacturerId: DEMO_MANUFACTURER, typeApprovalNumber: approval.number, variant: first!.variant, version: first!.version, ...overrides })}`;

  beforeAll(async () => {
    h = await startApiHarness();
    const repository = createTypeApprovalRepository(h.lifecycle.db);
    const draft = await repository.saveDraft(approval, 'drafter');
    await repository.publish(draft.revisionId, 'publisher', 'all');
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('lists the mandatory fields the approval leaves to the vehicle and gives a record to edit', async () => {
    const token = await h.key('feed', ['integrator'], [DEMO_MANUFACTURER]);
    const answer = await h.call('GET', path(), { token });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json.missing.map((field: { path: string }) => field.path)).toEqual(['CocDataGroup/VehicleIdentificationNumber']);
    expect(answer.json.example).toMatchObject({ manufacturerId: DEMO_MANUFACTURER, stage: 1, typeApprovalNumber: approval.number, variant: first!.variant, version: first!.version });
  });

  it('answers 404 for an unknown version or another manufacturer’s approval, 403 without vehicles.submit', async () => {
    const token = await h.key('feed', ['integrator'], [DEMO_MANUFACTURER]);
    expect((await h.call('GET', path({ version: 'NOPE' }), { token })).status).toBe(404);
    expect((await h.call('GET', path({ typeApprovalNumber: 'e1*2018/858*99999*00' }), { token })).status).toBe(404);
    const other = await h.key('other', ['integrator'], ['acme']);
    expect((await h.call('GET', path(), { token: other })).status).toBe(404);
    const reviewer = await h.key('rita', ['reviewer'], [DEMO_MANUFACTURER]);
    expect((await h.call('GET', path(), { token: reviewer })).status).toBe(403);
  });
});
