import { heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DELIVERY_RECEIPT_KINDS } from '../connectors/delivery/channel.ts';
import { mapWithConcurrency } from '../platform/concurrency.ts';
import { claimForReleaseUpdate, type DeliveryReport, reportDeliveryUpdate } from '../workflows/certificate/definitions.ts';
import type { ChunkInput, ChunkOutcome, ClaimedCertificate, ReleaseOverrides, ReleasePlan, SelectionCursor } from '../workflows/release/definitions.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { createDelivery, findSignedMessages, type StoredReceipt } from './delivery.ts';
import { rethrowClassified, retryLater } from './failures.ts';

/**
 * Steps of a batch release. Every step is safe to repeat: claims and outcome reports carry an
 * Update id derived from the batch (Temporal answers a repeat with the first outcome), receipts are
 * stored once per message, a message with a stored receipt is not sent again, and a rebuilt SFTP
 * package has the same bytes, so the server recognises it.
 */
export function createReleaseActivities({ db, config, channel, client, logger }: Pick<ActivityDependencies, 'db' | 'config' | 'channel' | 'client' | 'logger'>) {
  const log = logger.child({ component: 'release' });
  const calls = config.ECOC_RELEASE_CALL_CONCURRENCY;
  const delivery = createDelivery({ db, channel });

  /**
   * Tells a certificate workflow how its delivery went. One Update id per batch: a repeat gets the
   * first answer. A refusal means the certificate is not (or no longer) delivering for this batch.
   */
  async function report(certificateId: string, outcome: DeliveryReport): Promise<boolean> {
    heartbeat(); // throttled by the SDK; keeps long report loops alive under the heartbeat timeout
    try {
      await client.workflow.getHandle(certificateId).executeUpdate(reportDeliveryUpdate, { args: [outcome], updateId: `report-${outcome.batchId}` });
      return true;
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
        log.info({ certificateId, batchId: outcome.batchId, reason: (error.cause as Error | undefined)?.message ?? error.message }, 'delivery outcome not taken');
        return false;
      }
      throw error;
    }
  }

  const taken = (answers: boolean[]) => answers.filter(Boolean).length;

  /** Reports each certificate with a stored receipt as delivered, using the stored answer. */
  async function reportDelivered(input: ChunkInput, receipts: Map<string, StoredReceipt>): Promise<number> {
    const delivered = input.certificates.filter((c) => receipts.has(c.iviReferenceId));
    return taken(await mapWithConcurrency(delivered, calls, (certificate) => reportReceipt(input, certificate.certificateId, receipts.get(certificate.iviReferenceId)!)));
  }

  function reportReceipt(input: { destination: string; batchId: string }, certificateId: string, receipt: { reference: string; deliveredAt: Date; acknowledgedAt: Date | null }) {
    return report(certificateId, {
      batchId: input.batchId,
      outcome: 'delivered',
      receipt: { destination: input.destination, reference: receipt.reference, at: receipt.deliveredAt.toISOString(), acknowledged: receipt.acknowledgedAt !== null },
    });
  }

  async function reportFailed(batchId: string, failures: { certificateId: string; reason: string }[], permanent: boolean): Promise<number> {
    return taken(await mapWithConcurrency(failures, calls, (failure) => report(failure.certificateId, { batchId, outcome: 'failed', reason: failure.reason, permanent })));
  }

  return {
    /** Fixes the run's sizes (overrides, else configuration) and counts what it is to release. */
    async planRelease(input: { destination: string; cutoff: string; overrides: ReleaseOverrides; certificateIds?: string[] | undefined }): Promise<ReleasePlan> {
      const target = await channel(input.destination).catch(rethrowClassified);
      const batchSize = input.overrides.batchSize ?? config.ECOC_RELEASE_BATCH_SIZE;
      // An explicit list is exactly what the run releases; otherwise what is waiting, up to the batch size.
      const expected = input.certificateIds
        ? input.certificateIds.length
        : Math.min(await db.certificate.count({ where: { status: 'awaiting_release', destination: input.destination, statusChangedAt: { lte: new Date(input.cutoff) } } }), batchSize);
      return {
        kind: target.kind,
        batchSize,
        chunkSize: input.overrides.chunkSize ?? config.ECOC_RELEASE_CHUNK_SIZE,
        concurrency: input.overrides.concurrency ?? config.ECOC_RELEASE_CONCURRENCY,
        historyEvents: config.ECOC_RELEASE_HISTORY_EVENTS,
        deliveryRetryMs: config.ECOC_RELEASE_DELIVERY_RETRY_FOR,
        ackPollIntervalMs: config.ECOC_RELEASE_ACK_POLL_INTERVAL,
        ackTimeoutMs: config.ECOC_RELEASE_ACK_TIMEOUT,
        cutoff: input.cutoff,
        expected,
      };
    },

    /**
     * The next page of certificates waiting for this destination, oldest first, from the status
     * projection. Keyset paging (never offsets): certificates the batch already claimed may still
     * read as waiting until their workflow writes its next audit batch, and must not come back.
     */
    async selectForRelease(input: { destination: string; cutoff: string; after?: SelectionCursor | undefined; limit: number }): Promise<{ certificateIds: string[]; cursor?: SelectionCursor | undefined }> {
      const after = input.after;
      const rows = await db.certificate.findMany({
        where: {
          status: 'awaiting_release',
          destination: input.destination,
          statusChangedAt: { lte: new Date(input.cutoff) },
          ...(after ? { OR: [{ statusChangedAt: { gt: new Date(after.at) } }, { statusChangedAt: new Date(after.at), id: { gt: after.id } }] } : {}),
        },
        orderBy: [{ statusChangedAt: 'asc' }, { id: 'asc' }],
        take: input.limit,
        select: { id: true, statusChangedAt: true },
      });
      const last = rows.at(-1);
      return { certificateIds: rows.map((row) => row.id), cursor: last ? { at: last.statusChangedAt.toISOString(), id: last.id } : after };
    },

    /**
     * Asks each certificate workflow to hand itself to the batch. The workflow decides: one that
     * is no longer waiting (released immediately, corrected, withdrawn) answers `claimed: false`.
     */
    async claimForRelease(input: { batchId: string; certificateIds: string[] }): Promise<{ claimed: ClaimedCertificate[]; skipped: { certificateId: string; reason: string }[] }> {
      const answers = await mapWithConcurrency(input.certificateIds, calls, async (certificateId) => {
        heartbeat();
        try {
          const claim = await client.workflow.getHandle(certificateId).executeUpdate(claimForReleaseUpdate, { args: [{ batchId: input.batchId }], updateId: `claim-${input.batchId}` });
          return { certificateId, claim };
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) return { certificateId, claim: { claimed: false, reason: 'the certificate workflow has ended' } };
          throw error;
        }
      });
      return {
        claimed: answers.flatMap(({ certificateId, claim }) =>
          claim.claimed ? [{ certificateId, iviReferenceId: claim.iviReferenceId!, messageVersion: claim.messageVersion! }] : [],
        ),
        skipped: answers.flatMap(({ certificateId, claim }) => (claim.claimed ? [] : [{ certificateId, reason: claim.reason ?? 'not claimable' }])),
      };
    },

    /**
     * Delivers one chunk of claimed certificates as one batch (NAP: one call per message; SFTP: one
     * package) and reports each outcome to its workflow. A destination outage fails the step after
     * what was delivered is stored and reported (Temporal retries it; delivered messages are not
     * sent again); a rejection of one message fails only that certificate, for good.
     */
    async deliverReleaseChunk(input: ChunkInput & { packageId: string; createdAt: string }): Promise<ChunkOutcome> {
      const messages = await findSignedMessages(db, input.certificates.map((c) => c.iviReferenceId));
      const rejected = input.certificates.filter((c) => !messages.has(c.iviReferenceId)).map((c) => ({ certificateId: c.certificateId, reason: `message ${c.iviReferenceId} is not signed` }));
      // Every signed claimed message in claim order: a retry rebuilds the same batch (and package bytes).
      const sendable = input.certificates.flatMap((c) => messages.get(c.iviReferenceId) ?? []);
      const attempt = await delivery.deliver(input.destination, { packageId: input.packageId, createdAt: input.createdAt, messages: sendable }, input.batchId);
      const certificateOf = new Map(input.certificates.map((c) => [c.iviReferenceId, c.certificateId]));
      rejected.push(...attempt.rejected.map((r) => ({ certificateId: certificateOf.get(r.iviReferenceId)!, reason: r.reason })));

      heartbeat('reporting');
      const delivered = await reportDelivered(input, attempt.receipts);
      const failed = await reportFailed(input.batchId, rejected, true);
      // What is settled is reported; the retry sends only what has no receipt yet.
      if (attempt.outage) retryLater(attempt.outage);
      // Receipts of this batch still waiting for the destination's acknowledgement came with this chunk's package.
      const awaitingAcknowledgement = [...attempt.receipts.values()].some((r) => r.batchId === input.batchId && r.acknowledgedAt === null);
      return { delivered, failed, failedPermanently: failed, packageId: awaitingAcknowledgement ? input.packageId : undefined };
    },

    /**
     * Settles certificates whose delivery step gave up or whose run was cancelled (the caller only
     * knows their ids): those with a receipt from this batch were delivered and are reported so;
     * the others go back to awaiting_release for the next run. Certificates this batch never
     * claimed refuse the report, which changes nothing.
     */
    async settleReleaseChunk(input: { destination: string; batchId: string; certificateIds: string[]; reason: string }): Promise<ChunkOutcome> {
      // What reached the destination counts, stored or not: the batch's packages are named after it.
      await delivery.recover(input.destination, `${input.batchId}-`, input.certificateIds, input.batchId);
      const receipts = await db.deliveryReceipt.findMany({
        where: { destination: input.destination, batchId: input.batchId, kind: { in: [...DELIVERY_RECEIPT_KINDS] }, certificateId: { in: input.certificateIds } },
      });
      const byCertificate = new Map(receipts.map((receipt) => [receipt.certificateId, receipt]));
      // A receipt from this batch means delivered, even if the report was never sent.
      const delivered = receipts.length;
      await mapWithConcurrency(receipts, calls, (receipt) => reportReceipt(input, receipt.certificateId, receipt));
      const undelivered = input.certificateIds.filter((id) => !byCertificate.has(id)).map((certificateId) => ({ certificateId, reason: input.reason }));
      const returned = await reportFailed(input.batchId, undelivered, false);
      log.warn({ batchId: input.batchId, delivered, returned, reason: input.reason }, 'release chunk settled without its delivery step');
      // A receipt still waiting for the destination's acknowledgement names the package to watch.
      const awaiting = receipts.find((receipt) => receipt.acknowledgedAt === null);
      return { delivered, failed: returned, failedPermanently: 0, packageId: awaiting ? packageIdOf(awaiting) : undefined };
    },
  };
}

/** The package a receipt came with (kept in its detail; receipts from before it was kept name the package file). */
function packageIdOf(receipt: StoredReceipt): string {
  const detail = receipt.detail as { packageId?: string };
  return detail.packageId ?? receipt.reference.replace(/\.zip$/, '');
}
