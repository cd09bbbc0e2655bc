import { randomUUID } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { appendAuditRecords, recordAudit, type AuditRecordInput } from '../audit/chain.ts';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { DELIVERY_RECEIPT_KINDS, type DeliveryBatch, type DestinationReceipt, type SignedIviMessage } from '../connectors/delivery/channel.ts';
import { PermanentConnectorError, type TemporarilyUnavailableError } from '../connectors/delivery/errors.ts';
import { deliveryRejectedRecord } from '../events/catalogue.ts';
import { mapWithConcurrency } from '../platform/concurrency.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import { acknowledgeSignal } from '../workflows/certificate/definitions.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { nonRetryable, rethrowClassified, retryLater } from './failures.ts';

/**
 * The one delivery path: every message goes out through `channel.deliver` (NAP or SFTP alike, as
 * a batch; "release now" is a batch of one) and every answer is kept in `delivery_receipt`, once
 * per (message, destination, kind). A message that already has a receipt at its destination is
 * never sent again, so any step here may be retried.
 */

export type StoredSignedMessage = SignedIviMessage & { certificateId: string };

/** A `delivery_receipt` row as stored. */
export type StoredReceipt = Awaited<ReturnType<Database['deliveryReceipt']['findFirstOrThrow']>>;

export interface DeliveryResult {
  reference: string;
  at: string;
  /** NAP receipts acknowledge at once; SFTP partners acknowledge later with a file. */
  acknowledged: boolean;
}

/** What one delivery attempt settled. */
export interface DeliveryAttempt {
  /** Receipts stored for the batch's messages (from this attempt or an earlier one), by IVI reference id. */
  receipts: Map<string, StoredReceipt>;
  /** Messages the destination refused for good. */
  rejected: { iviReferenceId: string; reason: string }[];
  /** The destination was away for some messages: the caller reports what is settled, then throws this (Temporal retries). */
  outage?: TemporarilyUnavailableError | undefined;
}

export class DestinationRejectedError extends Error {
  override name = 'DestinationRejectedError';
}

/** Retrying cannot sign a message; `retryable: false` makes activities fail it for good. */
export class UnsignedMessageError extends Error {
  override name = 'UnsignedMessageError';
  readonly retryable = false;
}

/** Signed messages by IVI reference id, bytes exactly as stored; absent when unknown or not signed. */
export async function findSignedMessages(db: Database, iviReferenceIds: readonly string[]): Promise<Map<string, StoredSignedMessage>> {
  const rows = await db.certificateMessage.findMany({
    where: { iviReferenceId: { in: [...iviReferenceIds] } },
    include: { certificate: { select: { vin: true } } },
  });
  const messages = new Map<string, StoredSignedMessage>();
  for (const row of rows) {
    if (!row.signedXml) continue;
    messages.set(row.iviReferenceId, { certificateId: row.certificateId, vin: row.certificate.vin, iviReferenceId: row.iviReferenceId, iviVersionNumber: row.messageVersion, xml: new Uint8Array(row.signedXml) });
  }
  return messages;
}

async function loadSignedMessage(db: Database, iviReferenceId: string): Promise<StoredSignedMessage> {
  const message = (await findSignedMessages(db, [iviReferenceId])).get(iviReferenceId);
  if (!message) throw new UnsignedMessageError(`message ${iviReferenceId} is unknown or not signed; only signed messages are delivered`);
  return message;
}

/**
 * Sending and receipts, shared by the delivery activities and the release steps. The only place
 * that calls a channel's `deliver`.
 */
export function createDelivery({ db, channel }: Pick<ActivityDependencies, 'db' | 'channel'>) {
  /** Delivery receipts already stored for these messages at this destination. */
  async function storedReceipts(destination: string, iviReferenceIds: readonly string[]): Promise<Map<string, StoredReceipt>> {
    const rows = await db.deliveryReceipt.findMany({ where: { destination, kind: { in: [...DELIVERY_RECEIPT_KINDS] }, iviReferenceId: { in: [...iviReferenceIds] } } });
    return new Map(rows.map((row) => [row.iviReferenceId, row]));
  }

  /**
   * Sends the batch's messages that have no receipt at the destination yet and stores a receipt
   * for each one delivered (with `batchId`, when a batch release sent it). A retry rebuilds the
   * same batch (same package id, creation time and order), so what the destination already has is
   * recognised rather than duplicated.
   */
  async function deliver(destination: string, batch: Omit<DeliveryBatch, 'messages'> & { messages: readonly StoredSignedMessage[] }, batchId?: string): Promise<DeliveryAttempt> {
    const target = await channel(destination).catch(rethrowClassified);
    const ids = batch.messages.map((message) => message.iviReferenceId);
    const already = await storedReceipts(destination, ids);
    const toSend = batch.messages.filter((message) => !already.has(message.iviReferenceId));
    if (toSend.length === 0) return { receipts: already, rejected: [] };

    heartbeat('sending');
    const outcomes = await target.deliver({ packageId: batch.packageId, createdAt: batch.createdAt, messages: toSend }, { onProgress: () => heartbeat() }).catch(rethrowClassified);
    const sent = new Map(toSend.map((message) => [message.iviReferenceId, message]));
    const records: { message: StoredSignedMessage; receipt: DestinationReceipt }[] = [];
    const rejected: DeliveryAttempt['rejected'] = [];
    const refusals: AuditRecordInput[] = [];
    let outage: TemporarilyUnavailableError | undefined;
    for (const outcome of outcomes) {
      const message = sent.get(outcome.iviReferenceId);
      if (!message) throw new Error(`${destination} answered for message ${outcome.iviReferenceId}, which was not sent`);
      if (outcome.status === 'delivered') records.push({ message, receipt: outcome.receipt });
      else if (outcome.status === 'rejected') {
        rejected.push({ iviReferenceId: message.iviReferenceId, reason: `${destination} rejected the message: ${outcome.code}: ${outcome.message}` });
        // Keyed by package and message: a retried step (same package) records the refusal once.
        refusals.push(
          deliveryRejectedRecord({
            key: `${batch.packageId}:${message.iviReferenceId}`,
            certificateId: message.certificateId,
            destination,
            iviReferenceId: message.iviReferenceId,
            messageVersion: message.iviVersionNumber,
            phase: 'delivery',
            code: outcome.code,
            reason: outcome.message,
            batchId: batchId ?? null,
            reference: null,
          }),
        );
      } else outage ??= outcome.error;
    }
    heartbeat('recording');
    await recordDeliveries(db, destination, records, batchId);
    if (refusals.length) await recordAudit(db, refusals);
    return { receipts: await storedReceipts(destination, ids), rejected, outage };
  }

  /**
   * Stores the receipts a destination can still show for these certificates' messages in packages
   * of `packageIdPrefix` although none was stored: the upload committed, then the worker died
   * before `recordDeliveries` and the retry window ran out. Without this, the certificates would go
   * back to the next run and reach the partner a second time.
   */
  async function recover(destination: string, packageIdPrefix: string, certificateIds: readonly string[], batchId: string): Promise<void> {
    const target = await channel(destination).catch(rethrowClassified);
    if (!target.findDelivered) return;
    const found = await target.findDelivered(packageIdPrefix).catch(rethrowClassified);
    const wanted = new Set(certificateIds);
    const messages = await findSignedMessages(db, found.map((entry) => entry.iviReferenceId));
    const records = found.flatMap(({ iviReferenceId, receipt }) => {
      const message = messages.get(iviReferenceId);
      return message && wanted.has(message.certificateId) ? [{ message, receipt }] : [];
    });
    await recordDeliveries(db, destination, records, batchId);
  }

  return { deliver, storedReceipts, recover };
}

/**
 * Stores receipts once per (message, destination, kind): a retried delivery that got the same
 * answer (NAP replay, package already there) keeps the first row, so callers read back the stored
 * reference rather than trusting the retry's.
 */
async function recordDeliveries(db: Database, destination: string, records: readonly { message: StoredSignedMessage; receipt: DestinationReceipt }[], batchId?: string): Promise<void> {
  if (records.length === 0) return;
  await db.deliveryReceipt.createMany({
    skipDuplicates: true,
    data: records.map(({ message, receipt }) => ({
      id: randomUUID(),
      certificateId: message.certificateId,
      iviReferenceId: message.iviReferenceId,
      messageVersion: message.iviVersionNumber,
      destination,
      kind: receipt.kind,
      reference: receipt.reference,
      batchId: batchId ?? null,
      detail: receipt.detail,
      deliveredAt: new Date(receipt.at),
      acknowledgedAt: receipt.acknowledged ? new Date(receipt.at) : null,
    })),
  });
}

/** The certificate workflow's delivery steps ("release now", withdrawal) and the acknowledgement watch's step. */
export function createDeliveryActivities({ db, channel, client, config, logger }: Pick<ActivityDependencies, 'db' | 'channel' | 'client' | 'config' | 'logger'>) {
  const delivery = createDelivery({ db, channel });
  const log = logger.child({ component: 'delivery' });
  const calls = config.ECOC_RELEASE_CALL_CONCURRENCY;

  return {
    /**
     * Delivers one signed message now, as a batch of one (the legacy "release immediately" step;
     * releases now go through the release workflow). A retry never sends again what has a receipt
     * and returns the stored one; a retried send is recognised (NAP replay, same package bytes).
     */
    async deliverMessage(input: { certificateId: string; iviReferenceId: string; destination: string; audit: AuditEntry[] }): Promise<DeliveryResult> {
      const message = await loadSignedMessage(db, input.iviReferenceId).catch(rethrowClassified);
      const attempt = await delivery.deliver(input.destination, { packageId: `ecoc-${message.vin}-${input.iviReferenceId}`, createdAt: new Date(0).toISOString(), messages: [message] });
      const [rejection] = attempt.rejected;
      if (rejection) nonRetryable(new DestinationRejectedError(rejection.reason));
      if (attempt.outage) retryLater(attempt.outage);
      const receipt = attempt.receipts.get(message.iviReferenceId);
      if (!receipt) throw new Error(`${input.destination} gave no answer for message ${input.iviReferenceId}`);
      await writeAuditEntries(db, input.audit);
      return { reference: receipt.reference, at: receipt.deliveredAt.toISOString(), acknowledged: receipt.acknowledgedAt !== null };
    },

    /** Tells the destination the vehicle's eCoC is withdrawn (a NAP deletes by VIN; an SFTP partner is not notified). */
    async withdrawAtDestination(input: { certificateId: string; vin: string; destination: string; reason: string; audit: AuditEntry[] }): Promise<{ reference: string }> {
      const iviReferenceId = `withdrawal:${input.certificateId}`;
      // Withdrawn there already (a retry after a later destination failed): not asked twice.
      const done = await db.deliveryReceipt.findFirst({ where: { iviReferenceId, destination: input.destination } });
      if (done) {
        await writeAuditEntries(db, input.audit);
        return { reference: done.reference };
      }
      const target = await channel(input.destination).catch(rethrowClassified);
      const outcome = await target.withdraw(input.vin, input.reason).catch(rethrowClassified);
      if (outcome.status === 'rejected') nonRetryable(new DestinationRejectedError(`${input.destination} refused the withdrawal: ${outcome.code}: ${outcome.message}`));
      let reference: string;
      if (outcome.status === 'withdrawn') {
        const { receipt } = outcome;
        const stored = await db.deliveryReceipt.upsert({
          where: { iviReferenceId_destination_kind: { iviReferenceId, destination: input.destination, kind: receipt.kind } },
          create: {
            id: randomUUID(),
            certificateId: input.certificateId,
            iviReferenceId,
            messageVersion: 0,
            destination: input.destination,
            kind: receipt.kind,
            reference: receipt.reference,
            detail: receipt.detail,
            deliveredAt: new Date(receipt.at),
          },
          update: {},
        });
        reference = stored.reference;
      } else {
        reference = outcome.reference;
      }
      await writeAuditEntries(db, input.audit);
      return { reference };
    },

    /**
     * Looks for the partner's acknowledgement of each package; for an acknowledged package, each
     * accepted file acknowledges its certificate (signal) and receipt; a rejected or unlisted file
     * is recorded on the receipt (the certificate stays `delivered`).
     */
    async collectAcknowledgements(input: { destination: string; packageIds: string[] }): Promise<{ acknowledged: string[]; accepted: number; rejected: number }> {
      const target = await channel(input.destination).catch(rethrowClassified);
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
        if (outcome.status !== 'acknowledged') continue;
        const { acknowledgement, packageName } = outcome;
        const verdicts = new Map(acknowledgement.files.map((file) => [file.name, file]));
        const receipts = await db.deliveryReceipt.findMany({ where: { destination: input.destination, kind: { in: [...DELIVERY_RECEIPT_KINDS] }, reference: packageName } });
        const at = new Date(acknowledgement.receivedAt);
        await mapWithConcurrency(receipts, calls, async (receipt) => {
          heartbeat();
          const detail = receipt.detail as { file?: string };
          const verdict = verdicts.get(detail.file ?? '');
          if (verdict?.status === 'accepted') {
            accepted += 1;
            await client.workflow
              .getHandle(receipt.certificateId)
              .signal(acknowledgeSignal, { messageVersion: receipt.messageVersion, reference: packageName, at: acknowledgement.receivedAt })
              .catch((error: unknown) => {
                if (!(error instanceof WorkflowNotFoundError)) throw error;
              });
            await db.deliveryReceipt.update({ where: { id: receipt.id }, data: { acknowledgedAt: receipt.acknowledgedAt ?? at } });
          } else {
            rejected += 1;
            const partnerVerdict = verdict ?? { name: detail.file ?? null, status: 'rejected', reason: 'not listed in the acknowledgement' };
            log.warn({ packageId, certificateId: receipt.certificateId, verdict: partnerVerdict }, 'partner did not accept a delivered message');
            // The verdict on the receipt and in the audit trail together (the `delivery.rejected` event), once per receipt.
            await db.$transaction(async (tx) => {
              await tx.deliveryReceipt.update({ where: { id: receipt.id }, data: { detail: { ...(receipt.detail as object), partnerVerdict } } });
              await appendAuditRecords(tx, [
                deliveryRejectedRecord({
                  key: `acknowledgement:${receipt.id}`,
                  certificateId: receipt.certificateId,
                  destination: input.destination,
                  iviReferenceId: receipt.iviReferenceId,
                  messageVersion: receipt.messageVersion,
                  phase: 'acknowledgement',
                  code: verdict?.code ?? null,
                  reason: partnerVerdict.reason ?? 'rejected by the partner',
                  batchId: receipt.batchId,
                  reference: packageName,
                }),
              ]);
            });
          }
        });
        acknowledged.push(packageId);
      }
      return { acknowledged, accepted, rejected };
    },
  };
}
