import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReleaseRun } from '../../releases/service.ts';
import type { ReleaseProgress } from '../../workflows/release/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, NAP_DESTINATION, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { seedAwaitingRelease, type SeededCertificate } from '../support/release.ts';

/**
 * A NAP that misbehaves, scripted in the simulator: a server fault with Retry-After (waited out,
 * then delivered), and answers that are not SOAP at all or larger than any client reads (a clear
 * failure: the certificate fails naming the protocol error, nothing is marked delivered).
 */
describe('chaos: NAP faults', () => {
  let h: LifecycleHarness;
  const accepted: SeededCertificate[] = [];

  beforeAll(async () => {
    h = await startLifecycleHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function release(): Promise<ReleaseProgress> {
    // Earlier certificates here are settled: the run picks up just this one.
    const run = await startReleaseRun(h.client, h.config, { destination: NAP_DESTINATION }, actors.release);
    return (await h.client.workflow.getHandle(run.workflowId).result()) as ReleaseProgress;
  }

  it('honours Retry-After on a 500 server fault, then delivers once', async () => {
    const [certificate] = await seedAwaitingRelease(h, { count: 1, destination: NAP_DESTINATION });
    accepted.push(certificate!);
    // The retry policy alone would try again after 2 s; the NAP asks for 6.
    await h.nap.fault({ calls: 1, status: 500, body: 'fault', retryAfter: 6 });
    const started = Date.now();
    expect(await release()).toMatchObject({ delivered: 1, failed: 0 });
    const received = await h.nap.received(certificate!.vin);
    expect(received?.messages).toHaveLength(1);
    expect(Date.parse(received!.messages[0]!.receivedAt) - started).toBeGreaterThanOrEqual(6_000);
  }, 300_000);

  for (const body of ['malformed', 'oversized'] as const) {
    it(`fails clearly on a ${body} answer and marks nothing delivered`, async () => {
      const [certificate] = await seedAwaitingRelease(h, { count: 1, destination: NAP_DESTINATION });
      accepted.push(certificate!);
      await h.nap.fault({ calls: 1, status: 200, body });
      const summary = await release();
      expect(summary).toMatchObject({ delivered: 0, failed: 1, failedPermanently: 1 });
      const state = await h.waitForStatus(certificate!.certificateId, 'failed');
      expect(state.failure?.reason).toMatch(/NAP_PROTOCOL_ERROR/);
      expect(await h.db.deliveryReceipt.count({ where: { certificateId: certificate!.certificateId } })).toBe(0);
      expect(await h.nap.received(certificate!.vin)).toBeUndefined();
    }, 300_000);
  }

  it('leaves every invariant intact', async () => {
    const report = await assertInvariants({
      db: h.db,
      accepted: accepted.map((c) => c.certificateId),
      signingCertificatePem: h.signer.certificatePem,
      naps: h.naps,
      audit: { config: h.config },
    });
    expect(report.deliveredOnce).toBe(1);
  }, 120_000);
});
