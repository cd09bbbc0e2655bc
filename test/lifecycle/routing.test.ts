import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import { approveUpdate, releaseNowUpdate, withdrawUpdate } from '../../workflows/certificate/definitions.ts';
import { recordHistory } from '../support/histories.ts';
import { actors, NAP_DESTINATION, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';

const SECOND_NAP = `${NAP_DESTINATION}-two`;

/**
 * A new data version can move a certificate to another destination or type approval: the
 * workflow's state and search attributes follow it, "release now" and batches deliver where the
 * latest version says, and withdrawal reaches every destination a version was delivered to.
 */
describe('routing follows the latest data version', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycleHarness({ extraNaps: [SECOND_NAP] });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** The certificate's search attributes as the Temporal visibility store has them. */
  async function visible(certificateId: string, query: string): Promise<boolean> {
    for await (const execution of h.client.workflow.list({ query: `WorkflowId = "${certificateId}" AND ${query}` })) if (execution.workflowId === certificateId) return true;
    return false;
  }

  function changed(record: VehicleRecord, overrides: Partial<VehicleRecord>, speed: number): VehicleRecord {
    return { ...record, ...overrides, values: { ...record.values, MaximumSpeed: speed } } as VehicleRecord;
  }

  async function approveAndReleaseNow(certificateId: string) {
    const handle = h.client.workflow.getHandle(certificateId);
    const review = await h.waitForStatus(certificateId, 'in_review');
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: review.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    return h.waitForStatus(certificateId, 'acknowledged', 60_000);
  }

  it('a certificate first ingested without a destination takes the one of a later version, before delivery', async () => {
    const vin = nextVin();
    const first = specimenRecord(vin, { destination: undefined });
    const { certificateId } = await h.ingest(first);
    const inReview = await h.waitForStatus(certificateId, 'in_review');
    expect(inReview.destination).toBeUndefined();

    // Without a destination, "release now" is refused.
    await h.client.workflow.getHandle(certificateId).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: inReview.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await expect(h.client.workflow.getHandle(certificateId).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] })).rejects.toThrow();

    const second = await h.ingest(changed(first, { destination: SECOND_NAP }, 151));
    expect(second.outcome).toBe('corrected');
    const moved = await h.waitForStatus(certificateId, 'in_review');
    expect(moved).toMatchObject({ destination: SECOND_NAP, dataVersion: second.dataVersion });
    await expect.poll(() => visible(certificateId, `EcocDestination = "${SECOND_NAP}"`), { timeout: 15_000 }).toBe(true);

    const delivered = await approveAndReleaseNow(certificateId);
    expect(delivered.receipts.map((receipt) => receipt.destination)).toEqual([SECOND_NAP]);
    expect((await h.naps.get(SECOND_NAP)!.received(vin))?.messages).toHaveLength(1);
    expect(await h.nap.received(vin)).toBeUndefined();
    expect((await h.db.certificate.findUniqueOrThrow({ where: { id: certificateId } })).destination).toBe(SECOND_NAP);
    const routing = await h.db.auditRecord.findFirst({ where: { certificateId, action: 'routing_changed' } });
    expect(routing?.detail).toMatchObject({ to: { destination: SECOND_NAP } });
  });

  it('a destination and type approval changed after delivery: the correction goes to the new destination, withdrawal to both', async () => {
    const vin = nextVin();
    const first = specimenRecord(vin);
    const { certificateId } = await h.ingest(first);
    const v1 = await approveAndReleaseNow(certificateId);
    expect(v1.receipts.map((receipt) => [receipt.messageVersion, receipt.destination])).toEqual([[1, NAP_DESTINATION]]);

    // The next extension of the same approval.
    const typeApprovalNumber = first.typeApprovalNumber.replace(/\d\d$/, (extension) => String((Number(extension) + 1) % 100).padStart(2, '0'));
    expect(typeApprovalNumber).not.toBe(first.typeApprovalNumber);
    const moved = changed(first, { destination: SECOND_NAP, typeApprovalNumber }, 152);
    (moved.values as Record<string, unknown>).TypeApprovalNumber = typeApprovalNumber;
    await h.ingest(moved);
    await expect.poll(async () => (await h.status(certificateId)).messageVersion, { timeout: 15_000 }).toBe(2);
    const v2review = await h.waitForStatus(certificateId, 'in_review');
    expect(v2review).toMatchObject({ destination: SECOND_NAP, typeApprovalNumber });
    await expect
      .poll(() => visible(certificateId, `EcocDestination = "${SECOND_NAP}" AND EcocTypeApprovalNumber = "${typeApprovalNumber}"`), { timeout: 15_000 })
      .toBe(true);

    const v2 = await approveAndReleaseNow(certificateId);
    expect(v2.receipts.map((receipt) => [receipt.messageVersion, receipt.destination])).toEqual([
      [1, NAP_DESTINATION],
      [2, SECOND_NAP],
    ]);
    expect((await h.naps.get(SECOND_NAP)!.received(vin))?.messages.map((message) => message.iviVersionNumber)).toEqual([2]);

    await h.client.workflow.getHandle(certificateId).executeUpdate(withdrawUpdate, { args: [{ actor: actors.hana, reason: 'registered outside the EU' }] });
    await h.waitForStatus(certificateId, 'withdrawn');
    expect((await h.nap.received(vin))?.deleted?.reason).toBe('registered outside the EU');
    expect((await h.naps.get(SECOND_NAP)!.received(vin))?.deleted?.reason).toBe('registered outside the EU');
    await expect
      .poll(async () => (await h.db.auditRecord.findMany({ where: { certificateId, action: 'withdrawn_at_destination' } })).map((record) => (record.detail as { destination: string }).destination), {
        timeout: 15_000,
      })
      .toEqual([NAP_DESTINATION, SECOND_NAP]);
    await recordHistory('routing-after-delivery', h.client.workflow.getHandle(certificateId));
  });
});
