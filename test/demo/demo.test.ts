import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANUFACTURER, loadDemo } from '../../demo/load.ts';
import { roles } from '../../schemas/certificate.ts';
import { startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';

/** The demo through the real lifecycle: varied states, idempotent, refused where real data lives. */
describe('demo data', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycleHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('loads an approval, a key per role and 25 vehicles in varied states; a second run changes nothing', { timeout: 300_000 }, async () => {
    const deps = { db: h.db, client: h.client, taskQueue: h.taskQueue, review: h.review, destinations: h.destinations };
    const first = await loadDemo(deps);
    expect(first.alreadyLoaded).toBe(false);
    expect(Object.keys(first.keys ?? {}).sort()).toEqual([...roles].sort());
    expect(first.typeApproval.versions).toHaveLength(5);
    const { delivered = 0, acknowledged = 0, ...waiting } = first.certificates;
    expect(waiting, JSON.stringify(first.certificates)).toEqual({ blocked: 5, in_review: 8, rejected: 2, awaiting_release: 4 });
    expect(delivered + acknowledged).toBe(6);
    // Vehicles carry 6 fields; the approval supplies the rest, with its provenance.
    const version = await h.db.certificateDataVersion.findFirstOrThrow({ where: { certificate: { manufacturerId: DEMO_MANUFACTURER } } });
    expect(version.typeApprovalRevisionId).toBe(first.typeApproval.revisionId);

    const again = await loadDemo(deps);
    expect(again).toMatchObject({ alreadyLoaded: true, keys: null, certificates: first.certificates });
    expect(await h.db.apiKey.count({ where: { description: 'ecoc demo' } })).toBe(roles.length);
    expect(await h.db.certificateDataVersion.count({ where: { certificate: { manufacturerId: DEMO_MANUFACTURER } } })).toBe(25);
  });

  it('is refused on an installation with real data', async () => {
    await h.db.certificate.create({ data: { id: 'ecoc-WVWZZZ1JZXW000001-s1', manufacturerId: 'acme', vin: 'WVWZZZ1JZXW000001', stage: 1, typeApprovalNumber: 'e1*X', variant: 'V', version: 'X' } });
    await expect(loadDemo({ db: h.db, client: h.client, taskQueue: h.taskQueue, review: h.review, destinations: h.destinations })).rejects.toMatchObject({
      kind: 'not_allowed_in_state',
      message: expect.stringMatching(/other manufacturers: the demo loads only into an installation without real data/),
    });
  });
});
