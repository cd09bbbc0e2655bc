import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { storeCorrections } from '../../certificates/store.ts';
import {
  approveUpdate,
  correctUpdate,
  reassignUpdate,
  rejectUpdate,
  releaseNowUpdate,
  withdrawUpdate,
} from '../../workflows/certificate/definitions.ts';
import { telemetry } from '../../platform/telemetry.ts';
import type { Actor } from '../../schemas/certificate.ts';
import { releaseNowWorkflowId } from '../../workflows/release/definitions.ts';
import { recordHistory } from '../support/histories.ts';
import { actors, NAP_DESTINATION, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';

/** The refusal message the caller sees when an update validator says no. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return ((error as WorkflowUpdateFailedError).cause as Error).message;
}

describe('certificate workflow on the real Temporal server', () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycleHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function inReview(vin = nextVin()) {
    const { certificateId } = await h.ingest(specimenRecord(vin));
    const state = await h.waitForStatus(certificateId, 'in_review');
    return { certificateId, vin, state, handle: h.client.workflow.getHandle(certificateId) };
  }

  async function correct(certificateId: string, actor: Actor, path: string, value: unknown) {
    const stored = await storeCorrections(h.db, certificateId, [{ path, value, by: actor.id, at: new Date().toISOString(), reason: 'test' }], {
      submittedBy: actor.id,
      reason: `corrected ${path}`,
    });
    return h.client.workflow
      .getHandle(certificateId)
      .executeUpdate(correctUpdate, { args: [{ actor, dataVersion: stored.dataVersion, dataHash: stored.dataHash, reason: `corrected ${path}` }] });
  }

  it('runs the happy path: ingest → review → approve → sign → release → delivered → acknowledged', async () => {
    const { certificateId, vin, state, handle } = await inReview();
    expect(state.findings?.errors).toBe(0);
    expect(state.messageVersion).toBe(1);
    expect(state.reviewDeadline).toBeDefined();

    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    const awaiting = await h.waitForStatus(certificateId, 'awaiting_release');
    expect(awaiting.signature?.certificateFingerprint).toMatch(/^[0-9a-f]{64}$/);

    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    const done = await h.waitForStatus(certificateId, 'acknowledged');
    expect(done.receipts).toHaveLength(1);
    expect(done.receipts[0]).toMatchObject({ messageVersion: 1, destination: NAP_DESTINATION, acknowledged: true, iviReferenceId: state.iviReferenceId });
    expect(done.transitions.map((t) => t.to)).toEqual(
      expect.arrayContaining(['validating', 'generated', 'in_review', 'approved', 'signed', 'awaiting_release', 'delivering', 'delivered', 'acknowledged']),
    );

    const nap = await h.nap.received(vin);
    expect(nap?.messages).toHaveLength(1);
    expect(nap?.messages[0]).toMatchObject({ iviReferenceId: state.iviReferenceId, iviVersionNumber: 1 });

    // Data and documents live in PostgreSQL; the signed bytes are stored and their hash recorded.
    const message = await h.db.certificateMessage.findUniqueOrThrow({ where: { iviReferenceId: state.iviReferenceId! } });
    expect(message.signedXml).not.toBeNull();
    expect(message.signedHash).toBe(done.signature?.documentHash);
    // The query shows a state as soon as the workflow reaches it; its audit batch is written by
    // the activity that follows, a moment later.
    await expect
      .poll(async () => (await h.db.auditRecord.findMany({ where: { certificateId }, orderBy: { id: 'asc' } })).map((a) => a.action), { timeout: 15_000 })
      .toEqual(expect.arrayContaining(['ingested', 'status:in_review', 'status:approved', 'status:signed', 'status:delivered', 'status:acknowledged']));
    const approval = await h.db.auditRecord.findFirst({ where: { certificateId, action: 'status:approved' } });
    expect(approval?.actor).toBe('rita');

    // The operator's view: search attributes are kept up to date.
    await expect
      .poll(async () => {
        const found = [];
        for await (const execution of h.client.workflow.list({ query: `EcocVin = "${vin}" AND EcocStatus = "acknowledged"` })) found.push(execution.workflowId);
        return found;
      }, { timeout: 15_000 })
      .toEqual([certificateId]);
    // A worker that never ran it replays it: the queries and Update validators this run answered
    // (waitForStatus polls the status query) left nothing replay would have to repeat.
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, sinks: telemetry().workflowSinks }, await handle.fetchHistory())).resolves.toBeUndefined();
    await recordHistory('happy-path', handle);
    await recordHistory('release-now-batch', h.client.workflow.getHandle(releaseNowWorkflowId(done.receipts[0]!.batchId!)));
  });

  it('goes reject → correct → approve, with the correction producing a new data version', async () => {
    const { certificateId, state, handle } = await inReview();
    await handle.executeUpdate(rejectUpdate, { args: [{ actor: actors.rita, reason: 'wrong colour' }] });
    const rejected = await h.waitForStatus(certificateId, 'rejected');
    expect(rejected.rejection).toEqual({ by: 'rita', reason: 'wrong colour' });

    await correct(certificateId, actors.hana, 'MaximumSpeed', 150);
    const again = await h.waitForStatus(certificateId, 'in_review');
    expect(again.dataVersion).toBe(state.dataVersion + 1);
    expect(again.lastChangedBy).toBe('hana');
    expect(again.iviReferenceId).not.toBe(state.iviReferenceId);
    expect(again.messageVersion).toBe(1); // nothing was delivered yet: still the first issue

    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: again.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    const message = await h.db.certificateMessage.findUniqueOrThrow({ where: { iviReferenceId: again.iviReferenceId! } });
    expect(message.unsignedXml).toContain('<MaximumSpeed>150</MaximumSpeed>');
    await recordHistory('reject-correct-approve', handle);
  });

  it('refuses four-eyes violations, stale versions, wrong roles and wrong states, leaving no history event', async () => {
    const { certificateId, handle } = await inReview();
    await correct(certificateId, actors.hugo, 'MaximumSpeed', 155);
    const corrected = await h.waitForStatus(certificateId, 'in_review');
    const before = (await handle.fetchHistory()).events?.length ?? 0;

    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ actor: actors.hugo, dataVersion: corrected.dataVersion }] }))).toMatch(
      /four-eyes: hugo last changed this data/,
    );
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: corrected.dataVersion - 1 }] }))).toMatch(
      /stale approval: you reviewed data version 1, the current version is 2/,
    );
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ actor: actors.hana, dataVersion: corrected.dataVersion }] }))).toMatch(
      /approve: hana has role\(s\) homologation; one of reviewer, admin is required/,
    );
    expect(await refusal(handle.executeUpdate(rejectUpdate, { args: [{ actor: actors.rita, reason: '   ' }] }))).toMatch(/needs a reason/);
    expect(await refusal(handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] }))).toMatch(/cannot release in state in_review/);
    expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ actor: { id: '', roles: [] }, dataVersion: 2 }] }))).toMatch(/identity is missing/);

    const after = (await handle.fetchHistory()).events?.length ?? 0;
    expect(after).toBe(before);
    expect((await h.status(certificateId)).status).toBe('in_review');

    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rob, dataVersion: corrected.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
  });

  it('answers an update for an unknown certificate with a clear error', async () => {
    const handle = h.client.workflow.getHandle('ecoc-UNKNOWNVIN000000-s1');
    await expect(handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: 1 }] })).rejects.toThrow(/not found/i);
  });

  it('issues a correction after delivery as message version 2 with a new reference id', async () => {
    const { certificateId, vin, state, handle } = await inReview();
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    await h.waitForStatus(certificateId, 'acknowledged');

    await correct(certificateId, actors.hana, 'MaximumSpeed', 140);
    const second = await h.waitForStatus(certificateId, 'in_review');
    expect(second.messageVersion).toBe(2);
    expect(second.iviReferenceId).not.toBe(state.iviReferenceId);
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: second.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    const done = await h.waitForStatus(certificateId, 'acknowledged');
    expect(done.receipts.map((r) => r.messageVersion)).toEqual([1, 2]);

    const nap = await h.nap.received(vin);
    expect(nap?.messages.map((m) => [m.iviVersionNumber, m.iviReferenceId])).toEqual([
      [1, state.iviReferenceId],
      [2, second.iviReferenceId],
    ]);
    const message = await h.db.certificateMessage.findUniqueOrThrow({ where: { iviReferenceId: second.iviReferenceId! } });
    expect(message.unsignedXml).toContain('<IviVersionNumber>2</IviVersionNumber>');
    await recordHistory('correction-after-delivery', handle);
  });

  it('withdraws a delivered certificate by asking the NAP to delete it', async () => {
    const { certificateId, vin, state, handle } = await inReview();
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    await h.waitForStatus(certificateId, 'acknowledged');

    expect(await refusal(handle.executeUpdate(withdrawUpdate, { args: [{ actor: actors.rita, reason: 'sold abroad' }] }))).toMatch(/withdraw: rita/);
    await handle.executeUpdate(withdrawUpdate, { args: [{ actor: actors.hana, reason: 'vehicle destroyed before registration' }] });
    const withdrawn = await h.waitForStatus(certificateId, 'withdrawn');
    expect(withdrawn.withdrawal).toEqual({ by: 'hana', reason: 'vehicle destroyed before registration' });
    expect((await h.nap.received(vin))?.deleted?.reason).toBe('vehicle destroyed before registration');
    expect(await handle.result()).toMatchObject({ status: 'withdrawn' });
    await recordHistory('withdrawal', handle);
  });

  it('retries a transient delivery failure (NAP outage) to success', async () => {
    const { certificateId, vin, state, handle } = await inReview();
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await h.nap.outage(2);
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    const done = await h.waitForStatus(certificateId, 'acknowledged', 60_000);
    expect(done.receipts).toHaveLength(1);
    expect((await h.nap.received(vin))?.messages).toHaveLength(1);
    // "Release now" is a batch of one: its release run retried the delivery step.
    const batchId = done.receipts[0]!.batchId!;
    const history = await h.client.workflow.getHandle(releaseNowWorkflowId(batchId)).fetchHistory();
    const failedAttempts = history.events?.filter((event) => event.activityTaskStartedEventAttributes && (event.activityTaskStartedEventAttributes.attempt ?? 1) > 1);
    expect(failedAttempts?.length).toBeGreaterThanOrEqual(1);
    expect((await handle.fetchHistory()).events?.some((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === releaseNowWorkflowId(batchId))).toBe(true);
  });

  it('turns a repeated ingest of the same vehicle into the same certificate, never a second one', async () => {
    const vin = nextVin();
    const first = await h.ingest(specimenRecord(vin));
    const same = await h.ingest(specimenRecord(vin));
    expect(same.certificateId).toBe(first.certificateId);
    expect(same.outcome).toBe('unchanged');
    expect(same.dataVersion).toBe(first.dataVersion);

    const changed = specimenRecord(vin);
    (changed.values as Record<string, unknown>).MaximumSpeed = 170;
    const corrected = await h.ingest(changed);
    expect(corrected).toMatchObject({ certificateId: first.certificateId, outcome: 'corrected', dataVersion: first.dataVersion + 1 });

    const runs = [];
    for await (const execution of h.client.workflow.list({ query: `WorkflowId = "${first.certificateId}"` })) runs.push(execution.runId);
    expect(runs).toHaveLength(1);
    expect(await h.db.certificate.count({ where: { vin } })).toBe(1);
    const state = await h.waitForStatus(first.certificateId, 'in_review');
    expect(state.dataVersion).toBe(2);
  });

  it('blocks a certificate whose data breaks content rules, and unblocks it when corrected', async () => {
    const vin = nextVin();
    const record = specimenRecord(vin);
    (record.values as Record<string, unknown>).VehicleCategory = 'M2';
    const { certificateId } = await h.ingest(record);
    const blocked = await h.waitForStatus(certificateId, 'blocked');
    expect(blocked.findings?.errors).toBeGreaterThan(0);
    expect(blocked.findings?.blocking[0]).toMatchObject({ ruleId: expect.any(String), path: expect.stringMatching(/^CocDataGroup/), owner: expect.any(String) });
    await correct(certificateId, actors.hana, 'VehicleCategory', 'M1');
    await h.waitForStatus(certificateId, 'in_review');
  });

  it('keeps the review deadline on the certificate row while in review, and clears it after the decision', async () => {
    const { certificateId, state, handle } = await inReview();
    // The row follows the workflow with the audit batch written just after the state change.
    const row = () => h.db.certificate.findUniqueOrThrow({ where: { id: certificateId }, select: { status: true, reviewDeadline: true } });
    await expect.poll(async () => (await row()).reviewDeadline?.toISOString(), { timeout: 15_000 }).toBe(state.reviewDeadline);
    expect((await row()).status).toBe('in_review');
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    await h.waitForStatus(certificateId, 'awaiting_release');
    await expect.poll(async () => (await row()).status, { timeout: 15_000 }).toBe('awaiting_release');
    expect((await row()).reviewDeadline).toBeNull();
  });

  it('lets homologation reassign the review owner', async () => {
    const { certificateId, handle } = await inReview();
    await handle.executeUpdate(reassignUpdate, { args: [{ actor: actors.hana, owner: 'rob' }] });
    expect((await h.status(certificateId)).owner).toBe('rob');
  });
});
