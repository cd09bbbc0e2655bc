import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { ReleaseRequestError } from '../../releases/errors.ts';
import {
  backfillReleaseSchedule,
  createReleaseSchedule,
  deleteReleaseSchedule,
  describeReleaseSchedule,
  listReleaseSchedules,
  pauseReleaseSchedule,
  releaseRunProgress,
  type ReleaseScheduleView,
  startReleaseRun,
  triggerReleaseSchedule,
  unpauseReleaseSchedule,
} from '../../releases/service.ts';
import { actors, NAP_DESTINATION, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { seedAwaitingRelease, waitForProjection, type SeededCertificate } from '../support/release.ts';

const destination = NAP_DESTINATION;
const TEST_TIMEOUT = 300_000;

describe('release schedules on the real Temporal server', () => {
  let h: LifecycleHarness;

  beforeAll(async () => {
    h = await startLifecycleHarness();
  });
  afterEach(async () => {
    await deleteReleaseSchedule(h.client, h.config, { destination }, actors.release).catch((error: unknown) => {
      if (!(error instanceof ReleaseRequestError && error.kind === 'not_found')) throw error;
    });
    // A run the schedule started keeps going after the delete; the next test starts when it is done.
    await waitFor(
      async () => {
        const run = await releaseRunProgress(h.client, h.config, { destination }, actors.ops).catch((error: unknown) => {
          if (error instanceof ReleaseRequestError && error.kind === 'not_found') return undefined;
          throw error;
        });
        return run?.status !== 'RUNNING';
      },
      { timeoutMs: 120_000, what: 'no release running' },
    );
  });
  afterAll(async () => {
    await h?.stop();
  });

  const describeNow = () => describeReleaseSchedule(h.client, h.config, { destination }, actors.release);

  async function waitForSchedule(what: string, done: (view: ReleaseScheduleView) => boolean, timeoutMs = 240_000): Promise<ReleaseScheduleView> {
    let view: ReleaseScheduleView | undefined;
    try {
      await waitFor(
        async () => {
          view = await describeNow();
          return done(view);
        },
        { timeoutMs, intervalMs: 500, what },
      );
    } catch (error) {
      // What the schedule showed last is what tells a slow server from a wrong count.
      const last = view && { actionsTaken: view.actionsTaken, skippedOverlap: view.skippedOverlap, recentRuns: view.recentRuns };
      throw new Error(`${(error as Error).message}; the schedule last showed ${JSON.stringify(last)}`, { cause: error });
    }
    return view!;
  }

  /** Every certificate acknowledged by the NAP, which holds exactly one message per VIN. */
  async function expectDeliveredOnce(certificates: SeededCertificate[]): Promise<void> {
    await waitForProjection(h, certificates.map((c) => c.certificateId), 'acknowledged');
    for (const certificate of certificates) expect((await h.nap.received(certificate.vin))?.messages).toHaveLength(1);
    const receipts = await h.db.deliveryReceipt.findMany({ where: { certificateId: { in: certificates.map((c) => c.certificateId) } } });
    expect(receipts).toHaveLength(certificates.length);
  }

  it('creates a schedule through the service, lists and describes it, and a trigger releases what is waiting', async () => {
    const waiting = await seedAwaitingRelease(h, { count: 3, destination });
    const created = await createReleaseSchedule(h.client, h.config, { destination, cron: '0 2 * * *', timezone: 'Europe/Brussels', note: 'nightly' }, actors.release);
    expect(created).toMatchObject({ scheduleId: `release-${destination}`, destination, cron: '0 2 * * *', timezone: 'Europe/Brussels', overlap: 'SKIP', paused: false, note: 'rel: nightly', createdBy: 'rel' });
    // 02:00 in Brussels is 00:00 or 01:00 UTC depending on daylight saving time.
    expect(created.nextRuns[0]).toMatch(/T0[01]:00:00\.000Z$/);
    expect(new Date(created.nextRuns[0]!).getTime()).toBeGreaterThan(Date.now());

    await expect(createReleaseSchedule(h.client, h.config, { destination, every: '1h' }, actors.release)).rejects.toMatchObject({ kind: 'not_allowed_in_state' });
    await expect(createReleaseSchedule(h.client, h.config, { destination: 'nowhere', every: '1h' }, actors.release)).rejects.toMatchObject({ kind: 'not_found' });
    await expect(createReleaseSchedule(h.client, h.config, { destination, every: '1h' }, actors.rita)).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(createReleaseSchedule(h.client, h.config, { destination, cron: '0 2 * *' }, actors.release)).rejects.toThrow(/five cron fields/);

    // The list comes from Temporal's visibility store, which catches up shortly after a change.
    await waitFor(async () => (await listReleaseSchedules(h.client, h.config, {}, actors.ops)).some((s) => s.scheduleId === created.scheduleId), {
      timeoutMs: 30_000,
      what: 'the schedule in the list',
    });

    await triggerReleaseSchedule(h.client, h.config, { destination }, actors.release);
    const after = await waitForSchedule('the triggered run to complete', (view) => view.recentRuns[0]?.status === 'COMPLETED');
    expect(after.actionsTaken).toBe(1);
    expect(after.recentRuns[0]!.result).toMatchObject({ outcome: 'released', workflowId: `release-${destination}`, summary: { delivered: 3, failed: 0, phase: 'completed', requestedBy: `schedule:release-${destination}` } });
    await expectDeliveredOnce(waiting);
  }, TEST_TIMEOUT);

  it('does not fire while paused, and fires again once unpaused', async () => {
    const waiting = await seedAwaitingRelease(h, { count: 2, destination });
    const created = await createReleaseSchedule(h.client, h.config, { destination, every: '2s', paused: true, note: 'partner maintenance' }, actors.release);
    expect(created).toMatchObject({ paused: true, note: 'rel: partner maintenance', everyMs: 2_000 });
    // Let at least three ticks pass while paused: none of them may start a release.
    const until = Date.now() + 7_000;
    await waitFor(async () => Date.now() > until, { timeoutMs: 15_000, what: 'three paused ticks' });
    const paused = await describeNow();
    expect(paused).toMatchObject({ paused: true, actionsTaken: 0, recentRuns: [] });
    await waitForProjection(h, waiting.map((c) => c.certificateId), 'awaiting_release', 1_000);

    const resumed = await unpauseReleaseSchedule(h.client, h.config, { destination, note: 'partner back' }, actors.release);
    expect(resumed).toMatchObject({ paused: false, note: 'rel: partner back' });
    await waitForSchedule('a run after unpausing', (view) => view.recentRuns.some((run) => run.result?.outcome === 'released' && run.result.summary.delivered === 2));
    await expectDeliveredOnce(waiting);

    const pausedAgain = await pauseReleaseSchedule(h.client, h.config, { destination, note: 'done' }, actors.release);
    expect(pausedAgain.paused).toBe(true);
  }, TEST_TIMEOUT);

  it('backfills a missed window with the run the schedule would have taken', async () => {
    const waiting = await seedAwaitingRelease(h, { count: 2, destination });
    await createReleaseSchedule(h.client, h.config, { destination, cron: '0 2 * * *', timezone: 'Europe/Brussels' }, actors.release);
    // A 24-hour window in the past holds exactly one 02:00 Brussels tick.
    const end = new Date(Date.now() - 2 * 3_600_000);
    const start = new Date(end.getTime() - 24 * 3_600_000);
    await backfillReleaseSchedule(h.client, h.config, { destination, start: start.toISOString(), end: end.toISOString() }, actors.release);
    const view = await waitForSchedule('the backfilled run to complete', (v) => v.recentRuns[0]?.status === 'COMPLETED');
    expect(view.recentRuns).toHaveLength(1);
    const scheduledAt = new Date(view.recentRuns[0]!.scheduledAt);
    expect(scheduledAt.getTime()).toBeGreaterThanOrEqual(start.getTime());
    expect(scheduledAt.getTime()).toBeLessThanOrEqual(end.getTime());
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Brussels', hour: '2-digit', minute: '2-digit' }).format(scheduledAt)).toBe('02:00');
    expect(view.recentRuns[0]!.result).toMatchObject({ outcome: 'released', summary: { delivered: 2 } });
    await expectDeliveredOnce(waiting);
    await expect(backfillReleaseSchedule(h.client, h.config, { destination, start: end.toISOString(), end: start.toISOString() }, actors.release)).rejects.toThrow(/end must be after start/);
  }, TEST_TIMEOUT);

  it('skips a second trigger while a run is going, refuses a parallel manual run, and delivers each certificate once', async () => {
    const waiting = await seedAwaitingRelease(h, { count: 4, destination });
    await createReleaseSchedule(h.client, h.config, { destination, every: '1h' }, actors.release);
    await h.nap.outage(1_000_000); // the NAP answers 503 until further notice: the first run stays busy
    let batchId = '';
    try {
      await triggerReleaseSchedule(h.client, h.config, { destination }, actors.release);
      await waitFor(
        async () => {
          const run = await releaseRunProgress(h.client, h.config, { destination }, actors.ops).catch(() => undefined);
          batchId = run?.progress.batchId ?? '';
          return run?.status === 'RUNNING' && run.progress.claimed === 4;
        },
        { timeoutMs: 90_000, intervalMs: 500, what: 'the first run to claim the certificates' },
      );

      await triggerReleaseSchedule(h.client, h.config, { destination }, actors.release);
      const overlapped = await waitForSchedule('the second trigger to be skipped', (view) => view.skippedOverlap >= 1, 90_000);
      expect(overlapped.actionsTaken).toBe(1);
      const manual = await startReleaseRun(h.client, h.config, { destination }, actors.release);
      expect(manual).toMatchObject({ started: false, workflowId: `release-${destination}`, batchId });
    } finally {
      // Also when the test fails: a run left retrying against the outage would hold the destination for the next test.
      await h.nap.outage(0);
    }
    const done = await waitForSchedule('the first run to complete', (view) => view.recentRuns[0]?.status === 'COMPLETED');
    expect(done.recentRuns).toHaveLength(1);
    expect(done.recentRuns[0]!.result).toMatchObject({ outcome: 'released', summary: { batchId, delivered: 4, failed: 0 } });
    await expectDeliveredOnce(waiting);
  }, TEST_TIMEOUT);
});
