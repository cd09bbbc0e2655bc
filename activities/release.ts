import { heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SignedIviMessage } from '../connectors/delivery/channel.ts';
import { PermanentConnectorError, TemporarilyUnavailableError } from '../connectors/delivery/errors.ts';
import { packageFileName } from '../connectors/delivery/sftp-package.ts';
import { mapWithConcurrency } from '../platform/concurrency.ts';
import { acknowledgeSignal, claimForReleaseUpdate, type DeliveryReport, reportDeliveryUpdate } from '../workflows/certificate/definitions.ts';
import type { ReleaseOverrides, ReleasePlan, SelectionCursor } from '../workflows/release/definitions.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { type DeliveryRecord, findSignedMessages, napDeliveryRecord, recordDeliveries, sftpDeliveryRecord, type StoredSignedMessage } from './delivery-records.ts';
import { rethrowClassified } from './failures.ts';

/** A certificate the batch took over: its workflow is `delivering` with the batch id. */
export interface ClaimedCertificate {
  certificateId: string;
  iviReferenceId: string;
  messageVersion: number;
}

export interface ChunkInput {
  destination: string;
  batchId: string;
  certificates: ClaimedCertificate[];
}

export interface ChunkOutcome {
  delivered: number;
  failed: number;
  failedPermanently: number;
  /** The SFTP package now on the partner's server, if any. */
  packageId?: string | undefined;
}

const DELIVERY_KINDS = ['nap_receipt', 'sftp_package'];

/**
 * Steps of a batch release. Every step is safe to repeat: claims and outcome reports carry an
 * Update id derived from the batch (Temporal answers a repeat with the first outcome), receipts are
 * stored once per message, a message with a stored receipt is not sent again, and a rebuilt SFTP
 * package has the same bytes, so the server recognises it.
 */
export function createReleaseActivities({ db, config, channel, client, logger }: Pick<ActivityDependencies, 'db' | 'config' | 'channel' | 'client' | 'logger'>) {
  const log = logger.child({ component: 'release' });
  const calls = config.ECOC_RELEASE_CALL_CONCURRENCY;

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

  /** Receipts already stored for these messages at this destination (from any earlier attempt). */
  async function storedReceipts(destination: string, iviReferenceIds: string[]) {
    const rows = await db.deliveryReceipt.findMany({ where: { destination, kind: { in: DELIVERY_KINDS }, iviReferenceId: { in: iviReferenceIds } } });
    return new Map(rows.map((row) => [row.iviReferenceId, row]));
  }

  /** Reports every certificate with a stored receipt as delivered, using the stored answer. */
  async function reportDelivered(input: ChunkInput, certificates: ClaimedCertificate[]): Promise<number> {
    const receipts = await storedReceipts(input.destination, certificates.map((c) => c.iviReferenceId));
    const delivered = certificates.filter((c) => receipts.has(c.iviReferenceId));
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
    /** Fixes the run's sizes (overrides, else configuration) and counts what is waiting. */
    async planRelease(input: { destination: string; cutoff: string; overrides: ReleaseOverrides }): Promise<ReleasePlan> {
      const target = await channel(input.destination).catch(rethrowClassified);
      const batchSize = input.overrides.batchSize ?? config.ECOC_RELEASE_BATCH_SIZE;
      const waiting = await db.certificate.count({ where: { status: 'awaiting_release', destination: input.destination, statusChangedAt: { lte: new Date(input.cutoff) } } });
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
        expected: Math.min(waiting, batchSize),
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
     * Delivers one chunk of claimed certificates and reports each outcome to its workflow.
     * NAP: one call per message, `ECOC_RELEASE_CALL_CONCURRENCY` at a time; SFTP: one package.
     * A destination outage fails the step (Temporal retries it; delivered messages are not sent
     * again); a rejection of one message fails only that certificate, for good.
     */
    async deliverReleaseChunk(input: ChunkInput & { packageId: string; createdAt: string }): Promise<ChunkOutcome> {
      const target = await channel(input.destination).catch(rethrowClassified);
      const messages = await findSignedMessages(db, input.certificates.map((c) => c.iviReferenceId));
      const unsigned = input.certificates.filter((c) => !messages.has(c.iviReferenceId));
      const sendable = input.certificates.filter((c) => messages.has(c.iviReferenceId));
      const rejected = unsigned.map((c) => ({ certificateId: c.certificateId, reason: `message ${c.iviReferenceId} is not signed` }));
      let packageId: string | undefined;
      let outage: Error | undefined;

      if (target.kind === 'nap') {
        const already = await storedReceipts(input.destination, sendable.map((c) => c.iviReferenceId));
        const toSend = sendable.filter((c) => !already.has(c.iviReferenceId));
        const records: DeliveryRecord[] = [];
        await mapWithConcurrency(toSend, calls, async (certificate) => {
          heartbeat();
          const message = messages.get(certificate.iviReferenceId)!;
          try {
            const outcome = await target.deliverMessage(message);
            if (outcome.status === 'rejected') rejected.push({ certificateId: certificate.certificateId, reason: `${input.destination} rejected the message: ${outcome.code}: ${outcome.message}` });
            else records.push(napDeliveryRecord(message, input.destination, outcome.receipt, input.batchId));
          } catch (error) {
            if (!(error instanceof TemporarilyUnavailableError)) throw error;
            outage ??= error;
          }
        }).catch(rethrowClassified);
        await recordDeliveries(db, records);
      } else if (sendable.length > 0) {
        // The package holds every sendable claimed message in claim order: a retry rebuilds the same bytes.
        const ordered: SignedIviMessage[] = sendable.map((c) => messages.get(c.iviReferenceId)!);
        heartbeat('uploading');
        const outcome = await target.deliverPackage({ packageId: input.packageId, createdAt: input.createdAt, messages: ordered }).catch(rethrowClassified);
        if (outcome.status === 'rejected') {
          rejected.push(...sendable.map((c) => ({ certificateId: c.certificateId, reason: `${input.destination} refused package ${outcome.packageName}: ${outcome.code}: ${outcome.message}` })));
        } else {
          packageId = input.packageId;
          const at = new Date().toISOString();
          await recordDeliveries(db, sendable.map((c) => sftpDeliveryRecord(messages.get(c.iviReferenceId) as StoredSignedMessage, input.destination, outcome, at, input.batchId)));
        }
      }

      heartbeat('reporting');
      const delivered = await reportDelivered(input, sendable);
      const failed = await reportFailed(input.batchId, rejected, true);
      // What is settled is reported; the retry sends only what has no receipt yet.
      if (outage) throw outage;
      return { delivered, failed, failedPermanently: failed, packageId };
    },

    /**
     * Settles certificates whose delivery step gave up or whose run was cancelled (the caller only
     * knows their ids): those with a receipt from this batch were delivered and are reported so;
     * the others go back to awaiting_release for the next run. Certificates this batch never
     * claimed refuse the report, which changes nothing.
     */
    async settleReleaseChunk(input: { destination: string; batchId: string; certificateIds: string[]; reason: string }): Promise<ChunkOutcome> {
      const receipts = await db.deliveryReceipt.findMany({
        where: { destination: input.destination, batchId: input.batchId, kind: { in: DELIVERY_KINDS }, certificateId: { in: input.certificateIds } },
      });
      const byCertificate = new Map(receipts.map((receipt) => [receipt.certificateId, receipt]));
      // A receipt from this batch means delivered, even if the report was never sent.
      const delivered = receipts.length;
      await mapWithConcurrency(receipts, calls, (receipt) => reportReceipt(input, receipt.certificateId, receipt));
      const undelivered = input.certificateIds.filter((id) => !byCertificate.has(id)).map((certificateId) => ({ certificateId, reason: input.reason }));
      const returned = await reportFailed(input.batchId, undelivered, false);
      log.warn({ batchId: input.batchId, delivered, returned, reason: input.reason }, 'release chunk settled without its delivery step');
      const packageName = receipts.find((receipt) => receipt.kind === 'sftp_package')?.reference;
      return { delivered, failed: returned, failedPermanently: 0, packageId: packageName?.replace(/\.zip$/, '') };
    },

    /**
     * Looks for the partner's `<package>.ack.json` of each package; for an acknowledged package,
     * each accepted file acknowledges its certificate (signal) and receipt; a rejected or unlisted
     * file is recorded on the receipt (the certificate stays `delivered`).
     */
    async collectAcknowledgements(input: { destination: string; packageIds: string[] }): Promise<{ acknowledged: string[]; accepted: number; rejected: number }> {
      const target = await channel(input.destination).catch(rethrowClassified);
      if (target.kind !== 'sftp') return { acknowledged: [], accepted: 0, rejected: 0 };
      const acknowledged: string[] = [];
      let accepted = 0;
      let rejected = 0;
      for (const packageId of input.packageIds) {
        heartbeat(packageId);
        const outcome = await target.fetchAcknowledgement(packageId).catch((error: unknown) => {
          // A half-written or broken ack file is the partner's to fix: keep watching, do not give up the batch.
          if (error instanceof PermanentConnectorError && error.code === 'ACK_INVALID') {
            log.warn({ packageId, reason: error.message }, 'unreadable acknowledgement; still waiting for a valid one');
            return { status: 'pending' as const };
          }
          return rethrowClassified(error);
        });
        if (outcome.status === 'pending') continue;
        const { acknowledgement } = outcome;
        const verdicts = new Map(acknowledgement.files.map((file) => [file.name, file]));
        const receipts = await db.deliveryReceipt.findMany({ where: { destination: input.destination, kind: 'sftp_package', reference: packageFileName(packageId) } });
        const at = new Date(acknowledgement.receivedAt);
        await mapWithConcurrency(receipts, calls, async (receipt) => {
          heartbeat();
          const detail = receipt.detail as { file?: string };
          const verdict = verdicts.get(detail.file ?? '');
          if (verdict?.status === 'accepted') {
            accepted += 1;
            await client.workflow
              .getHandle(receipt.certificateId)
              .signal(acknowledgeSignal, { messageVersion: receipt.messageVersion, reference: packageFileName(packageId), at: acknowledgement.receivedAt })
              .catch((error: unknown) => {
                if (!(error instanceof WorkflowNotFoundError)) throw error;
              });
            await db.deliveryReceipt.update({ where: { id: receipt.id }, data: { acknowledgedAt: receipt.acknowledgedAt ?? at } });
          } else {
            rejected += 1;
            const partnerVerdict = verdict ?? { name: detail.file ?? null, status: 'rejected', reason: 'not listed in the acknowledgement' };
            log.warn({ packageId, certificateId: receipt.certificateId, verdict: partnerVerdict }, 'partner did not accept a delivered message');
            await db.deliveryReceipt.update({ where: { id: receipt.id }, data: { detail: { ...(receipt.detail as object), partnerVerdict } } });
          }
        });
        acknowledged.push(packageId);
      }
      return { acknowledged, accepted, rejected };
    },
  };
}
