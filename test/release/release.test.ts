import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReleaseRun } from '../../releases/service.ts';
import { claimForReleaseUpdate, releaseNowUpdate, reportDeliveryUpdate } from '../../workflows/certificate/definitions.ts';
import { type AcknowledgementWatchResult, newBatchId, releaseNowWorkflowId, type ReleaseProgress } from '../../workflows/release/definitions.ts';
import type { releaseWorkflow } from '../../workflows/release/index.ts';
import { actors, NAP_DESTINATION, startLifecycleHarness, testDestination, type LifecycleHarness } from '../support/lifecycle.ts';
import { readPackages, seedAwaitingRelease, waitForProjection } from '../support/release.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

/**
 * Certificates per destination. Seeding goes through the whole pipeline (ingest, validate,
 * generate, review, sign) at a few certificates per second on 2 shared cores, so 500 per
 * destination would take most of the suite's time budget; bench/release.ts runs 500 and more.
 */
const COUNT = 60;
const SFTP_DESTINATION = testDestination('partner-sftp');
/** Seeding and releasing this many through the full pipeline on a shared 2-core machine takes minutes. */
const BIG_TEST_TIMEOUT = 900_000;

describe('batch release on the real Temporal server', () => {
  let h: LifecycleHarness;
  let sshd: TestSshd;
  let partnerDir: string;

  beforeAll(async () => {
    sshd = await startTestSshd();
    partnerDir = join(sshd.root, 'partner-in');
    mkdirSync(partnerDir);
    h = await startLifecycleHarness({
      destinations: [{ id: SFTP_DESTINATION, kind: 'sftp', ...sshd.endpoint('partner-in') }],
      // Short ack polling for the test; a small history budget so the run continues as new.
      env: { ECOC_RELEASE_ACK_POLL_INTERVAL: '1s', ECOC_RELEASE_HISTORY_EVENTS: '100' },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await sshd?.dispose();
  });

  async function release(destination: string, overrides: { chunkSize?: number; concurrency?: number } = {}): Promise<ReleaseProgress> {
    const run = await startReleaseRun(h.client, h.config, { destination, ...overrides }, actors.release);
    expect(run.started).toBe(true);
    return h.client.workflow.getHandle(run.workflowId).result() as Promise<ReleaseProgress>;
  }

  it(`releases ${COUNT} certificates to an SFTP partner in packages, each exactly once, then takes the partner's acknowledgements`, async () => {
    const seeded = await seedAwaitingRelease(h, { count: COUNT, destination: SFTP_DESTINATION });
    // About twenty packages, one lane: several selection pages, so the run continues as new on the way.
    const chunkSize = Math.ceil(COUNT / 20);
    const summary = await release(SFTP_DESTINATION, { chunkSize, concurrency: 1 });
    expect(summary).toMatchObject({ phase: 'completed', selected: COUNT, claimed: COUNT, delivered: COUNT, failed: 0, skipped: 0, remaining: 0 });
    expect(summary.generation).toBeGreaterThan(0); // continued as new at least once
    expect(summary.packages).toBe(Math.ceil(COUNT / chunkSize));

    const packages = await readPackages(partnerDir);
    expect(packages.map((p) => p.name)).toEqual(Array.from({ length: summary.packages }, (_, i) => `${summary.batchId}-p${String(i + 1).padStart(4, '0')}.zip`));
    const packedVins = packages.flatMap((p) => p.manifest.files.map((file) => file.vin)).sort();
    expect(packedVins).toEqual(seeded.map((c) => c.vin).sort());

    const receipts = await h.db.deliveryReceipt.findMany({ where: { destination: SFTP_DESTINATION } });
    expect(receipts).toHaveLength(COUNT);
    expect(new Set(receipts.map((r) => r.certificateId)).size).toBe(COUNT);
    expect(receipts.every((r) => r.batchId === summary.batchId && r.kind === 'sftp_package' && r.acknowledgedAt === null)).toBe(true);
    await waitForProjection(h, seeded.map((c) => c.certificateId), 'delivered');
    const one = await h.status(seeded[0]!.certificateId);
    expect(one.receipts).toEqual([expect.objectContaining({ destination: SFTP_DESTINATION, batchId: summary.batchId, acknowledged: false })]);

    // The partner answers: every file accepted except one.
    const refused = packages[0]!.manifest.files[0]!;
    for (const { manifest } of packages) {
      const ack = {
        packageId: manifest.packageId,
        receivedAt: new Date().toISOString(),
        files: manifest.files.map((file) => (file === refused ? { name: file.name, status: 'rejected', code: 'E42', reason: 'unreadable' } : { name: file.name, status: 'accepted' })),
      };
      const file = join(partnerDir, `${manifest.packageId}.ack.json`);
      writeFileSync(`${file}.part`, JSON.stringify(ack));
      renameSync(`${file}.part`, file);
    }
    const watch = (await h.client.workflow.getHandle(summary.acknowledgementWorkflowId!).result()) as AcknowledgementWatchResult;
    expect(watch).toEqual({ batchId: summary.batchId, pendingPackages: [], accepted: COUNT - 1, rejected: 1 });
    const accepted = seeded.filter((c) => c.vin !== refused.vin).map((c) => c.certificateId);
    await waitForProjection(h, accepted, 'acknowledged');
    const refusedReceipt = await h.db.deliveryReceipt.findFirstOrThrow({ where: { destination: SFTP_DESTINATION, detail: { path: ['file'], equals: refused.name } } });
    expect(refusedReceipt.acknowledgedAt).toBeNull();
    expect(refusedReceipt.detail).toMatchObject({ partnerVerdict: { status: 'rejected', code: 'E42' } });
    expect((await h.status(refusedReceipt.certificateId)).status).toBe('delivered');
  }, BIG_TEST_TIMEOUT);

  it(`releases ${COUNT} certificates to the NAP with one call per VIN, each exactly once, through an outage`, async () => {
    const seeded = await seedAwaitingRelease(h, { count: COUNT, destination: NAP_DESTINATION });
    await h.nap.outage(25); // the first calls get 503: the step is retried, nothing is sent twice
    const summary = await release(NAP_DESTINATION, { chunkSize: 100, concurrency: 2 });
    expect(summary).toMatchObject({ phase: 'completed', selected: COUNT, claimed: COUNT, delivered: COUNT, failed: 0, packages: 0 });
    expect(summary.acknowledgementWorkflowId).toBeUndefined();
    await waitForProjection(h, seeded.map((c) => c.certificateId), 'acknowledged');
    const received = await Promise.all(seeded.map((c) => h.nap.received(c.vin)));
    expect(received.map((r) => r?.messages.length)).toEqual(seeded.map(() => 1));
    const receipts = await h.db.deliveryReceipt.findMany({ where: { destination: NAP_DESTINATION, batchId: summary.batchId } });
    expect(receipts).toHaveLength(COUNT);
    expect(new Set(receipts.map((r) => r.reference))).toEqual(new Set(received.map((r) => r!.messages[0]!.receiptId)));
  }, BIG_TEST_TIMEOUT);

  it('never lets a batch and "release immediately" both deliver one certificate', async () => {
    const [immediate, batched] = await seedAwaitingRelease(h, { count: 2, destination: NAP_DESTINATION });
    // Released immediately first: a batch claim afterwards is refused.
    await h.client.workflow.getHandle(immediate!.certificateId).executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    const lateClaim = await h.client.workflow.getHandle(immediate!.certificateId).executeUpdate(claimForReleaseUpdate, { args: [{ batchId: 'test-batch-1' }] });
    expect(lateClaim.claimed).toBe(false);

    // Claimed by a batch first: releasing it immediately is refused, and a repeated claim of the same batch is the same claim.
    const handle = h.client.workflow.getHandle(batched!.certificateId);
    const claim = await handle.executeUpdate(claimForReleaseUpdate, { args: [{ batchId: 'test-batch-2' }] });
    expect(claim.claimed).toBe(true);
    expect(await handle.executeUpdate(claimForReleaseUpdate, { args: [{ batchId: 'test-batch-2' }] })).toEqual(claim);
    expect((await handle.executeUpdate(claimForReleaseUpdate, { args: [{ batchId: 'test-batch-3' }] })).claimed).toBe(false);
    const refused = await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((refused as WorkflowUpdateFailedError).cause as Error).message).toMatch(/cannot release in state delivering/);
    // The test batch gives it back; the next real run delivers it.
    await handle.executeUpdate(reportDeliveryUpdate, { args: [{ batchId: 'test-batch-2', outcome: 'failed', reason: 'test batch stopped', permanent: false }] });
    await waitForProjection(h, [batched!.certificateId], 'awaiting_release');

    const summary = await release(NAP_DESTINATION);
    expect(summary).toMatchObject({ delivered: 1, failed: 0 });
    await waitForProjection(h, [immediate!.certificateId, batched!.certificateId], 'acknowledged');
    for (const certificate of [immediate!, batched!]) expect((await h.nap.received(certificate.vin))?.messages).toHaveLength(1);
    // "Release now" is a release run of that one certificate under its own batch id, not the later run's.
    const immediateBatchId = (await h.status(immediate!.certificateId)).receipts[0]?.batchId;
    expect(immediateBatchId).toBeDefined();
    expect(immediateBatchId).not.toBe(summary.batchId);
    expect(await h.client.workflow.getHandle(releaseNowWorkflowId(immediateBatchId!)).result()).toMatchObject({ expected: 1, claimed: 1, delivered: 1, failed: 0 });
    expect((await h.status(batched!.certificateId)).receipts[0]?.batchId).toBe(summary.batchId);
  }, 300_000);

  it('releases an explicit list: exactly those certificates, each once, at the NAP and at a partner, the others wait for the next run', async () => {
    for (const destination of [NAP_DESTINATION, SFTP_DESTINATION]) {
      const seeded = await seedAwaitingRelease(h, { count: 5, destination });
      const listed = [seeded[1]!, seeded[3]!];
      const others = seeded.filter((c) => !listed.includes(c));
      const batchId = newBatchId(destination, new Date(), randomUUID());
      const summary = (await h.client.workflow.execute<typeof releaseWorkflow>('releaseWorkflow', {
        workflowId: releaseNowWorkflowId(batchId),
        taskQueue: h.taskQueue,
        args: [{ destination, batchId, certificateIds: listed.map((c) => c.certificateId), requestedBy: actors.release.id }],
      })) as ReleaseProgress;
      expect(summary).toMatchObject({ batchId, phase: 'completed', expected: 2, selected: 2, claimed: 2, skipped: 0, delivered: 2, failed: 0, remaining: 0 });
      await waitForProjection(h, others.map((c) => c.certificateId), 'awaiting_release');
      const receipts = await h.db.deliveryReceipt.findMany({ where: { destination, batchId } });
      expect(receipts.map((r) => r.certificateId).sort()).toEqual(listed.map((c) => c.certificateId).sort());

      if (destination === NAP_DESTINATION) {
        expect(summary.packages).toBe(0);
        expect(summary.acknowledgementWorkflowId).toBeUndefined();
        await waitForProjection(h, listed.map((c) => c.certificateId), 'acknowledged');
        for (const certificate of listed) expect((await h.nap.received(certificate.vin))?.messages).toHaveLength(1);
        for (const certificate of others) expect(await h.nap.received(certificate.vin)).toBeUndefined();
      } else {
        expect(summary.packages).toBe(1);
        await waitForProjection(h, listed.map((c) => c.certificateId), 'delivered');
        const packages = (await readPackages(partnerDir)).filter((p) => p.name.startsWith(batchId));
        expect(packages.map((p) => p.name)).toEqual([`${batchId}-p0001.zip`]);
        const manifest = packages[0]!.manifest;
        expect(manifest.files.map((file) => file.vin).sort()).toEqual(listed.map((c) => c.vin).sort());
        const everywhere = (await readPackages(partnerDir)).flatMap((p) => p.manifest.files.map((file) => file.vin));
        for (const certificate of listed) expect(everywhere.filter((vin) => vin === certificate.vin)).toHaveLength(1);
        for (const certificate of others) expect(everywhere).not.toContain(certificate.vin);
        // The acknowledgement watch runs as for any batch.
        const ack = { packageId: manifest.packageId, receivedAt: new Date().toISOString(), files: manifest.files.map((file) => ({ name: file.name, status: 'accepted' })) };
        const file = join(partnerDir, `${manifest.packageId}.ack.json`);
        writeFileSync(`${file}.part`, JSON.stringify(ack));
        renameSync(`${file}.part`, file);
        const watch = (await h.client.workflow.getHandle(summary.acknowledgementWorkflowId!).result()) as AcknowledgementWatchResult;
        expect(watch).toEqual({ batchId, pendingPackages: [], accepted: 2, rejected: 0 });
        await waitForProjection(h, listed.map((c) => c.certificateId), 'acknowledged');
      }

      // The next ordinary run takes the three that were not listed, and nothing else.
      const next = await release(destination);
      expect(next).toMatchObject({ selected: 3, claimed: 3, delivered: 3, failed: 0 });
      const all = await h.db.deliveryReceipt.findMany({ where: { destination, certificateId: { in: seeded.map((c) => c.certificateId) } } });
      expect(all.map((r) => r.certificateId).sort()).toEqual(seeded.map((c) => c.certificateId).sort());
    }
  }, 600_000);
});
