import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveUpdate } from '../../workflows/certificate/definitions.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';

/** Review deadlines shortened to seconds; the escalation goes to a real local webhook over HTTP. */
describe('review deadlines', () => {
  let h: LifecycleHarness;
  let webhook: Server;
  const notifications: Record<string, unknown>[] = [];

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        notifications.push({ ...(JSON.parse(body) as Record<string, unknown>), idempotencyKey: req.headers['idempotency-key'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const address = webhook.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    h = await startLifecycleHarness({
      review: { escalateAfterMs: 2_000, expireAfterMs: 5_000, escalationOwner: 'homologation-lead' },
      env: { ECOC_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/ecoc` },
    });
  });
  afterAll(async () => {
    await h?.stop();
    webhook?.close();
  });

  it('escalates an undecided review to the second owner with a notification, then expires it', async () => {
    const vin = nextVin();
    const { certificateId } = await h.ingest(specimenRecord(vin));
    const review = await h.waitForStatus(certificateId, 'in_review');
    expect(review.escalated).toBe(false);

    await expect.poll(async () => (await h.status(certificateId)).escalated, { timeout: 15_000 }).toBe(true);
    const escalated = await h.status(certificateId);
    expect(escalated.owner).toBe('homologation-lead');
    await expect.poll(() => notifications.filter((n) => n.certificateId === certificateId), { timeout: 10_000 }).toHaveLength(1);
    expect(notifications.find((n) => n.certificateId === certificateId)).toMatchObject({ event: 'review_escalated', vin, owner: 'homologation-lead' });

    const expired = await h.waitForStatus(certificateId, 'rejected', 20_000);
    expect(expired.rejection).toEqual({ by: 'system', reason: 'review deadline expired' });
    await expect
      .poll(async () => (await h.db.auditRecord.findMany({ where: { certificateId } })).map((a) => a.action), { timeout: 15_000 })
      .toEqual(expect.arrayContaining(['review_escalated', 'status:rejected']));
  });

  it('neither escalates nor expires a review decided in time', async () => {
    const { certificateId } = await h.ingest(specimenRecord(nextVin()));
    const review = await h.waitForStatus(certificateId, 'in_review');
    const handle = h.client.workflow.getHandle(certificateId);
    const timers = async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      return {
        started: events.filter((e) => e.timerStartedEventAttributes).length,
        canceled: events.filter((e) => e.timerCanceledEventAttributes).length,
        fired: events.filter((e) => e.timerFiredEventAttributes).length,
      };
    };
    // Decide once the escalation timer is running (the review is visible a moment before it starts).
    await expect.poll(async () => (await timers()).started, { timeout: 15_000 }).toBe(1);
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: review.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    // The escalation timer belongs to the review: the decision cancels it, so it can never fire.
    expect(await timers()).toEqual({ started: 1, canceled: 1, fired: 0 });
    expect(notifications.some((n) => n.certificateId === certificateId)).toBe(false);
    expect((await h.status(certificateId)).escalated).toBe(false);
  });
});
