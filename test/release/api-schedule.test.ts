import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import type { ReleaseScheduleView } from '../../releases/service.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { NAP_DESTINATION } from '../support/specimen.ts';
import { seedAwaitingRelease, waitForProjection } from '../support/release.ts';

/** The operator's path end to end: a schedule made through the HTTP API releases what is waiting. */
describe('release schedule through the API', () => {
  let h: ApiHarness;
  let token: string;

  beforeAll(async () => {
    h = await startApiHarness();
    token = await h.key('rel', ['release-manager'], ['*']);
  });
  afterAll(async () => h?.stop());

  it('creates a schedule with POST, triggers it, and the run delivers every waiting certificate once', async () => {
    const waiting = await seedAwaitingRelease(h.lifecycle, { count: 3, destination: NAP_DESTINATION });
    const created = await h.call('POST', '/api/v1/releases/schedules', { token, body: { destination: NAP_DESTINATION, cron: '*/30 * * * *', timezone: 'Europe/Brussels', note: 'every half hour' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ scheduleId: `release-${NAP_DESTINATION}`, overlap: 'SKIP', timezone: 'Europe/Brussels', paused: false });

    expect((await h.call('POST', `/api/v1/releases/schedules/${NAP_DESTINATION}/trigger`, { token, body: {} })).status).toBe(200);
    let view: ReleaseScheduleView | undefined;
    await waitFor(
      async () => {
        view = (await h.call('GET', `/api/v1/releases/schedules/${NAP_DESTINATION}`, { token })).json as ReleaseScheduleView;
        return view.recentRuns[0]?.status === 'COMPLETED';
      },
      { timeoutMs: 240_000, intervalMs: 500, what: 'the triggered run to complete' },
    );
    expect(view!.recentRuns[0]!.result).toMatchObject({ outcome: 'released', summary: { delivered: 3, failed: 0 } });
    await waitForProjection(h.lifecycle, waiting.map((c) => c.certificateId), 'acknowledged');
    for (const certificate of waiting) expect((await h.lifecycle.nap.received(certificate.vin))?.messages).toHaveLength(1);
    expect((await h.call('DELETE', `/api/v1/releases/schedules/${NAP_DESTINATION}`, { token })).status).toBe(200);
  }, 300_000);
});
