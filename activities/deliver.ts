import { randomUUID } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import { writeAuditEntries } from '../certificates/audit-store.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { type DeliveryRecord, loadSignedMessage, napDeliveryRecord, recordDeliveries, sftpDeliveryRecord } from './delivery-records.ts';
import { nonRetryable, rethrowClassified } from './failures.ts';

export interface DeliveryResult {
  reference: string;
  at: string;
  /** NAP receipts acknowledge at once; SFTP partners acknowledge later with a file. */
  acknowledged: boolean;
}

export class DestinationRejectedError extends Error {
  override name = 'DestinationRejectedError';
}

export function createDeliverActivities({ db, channel }: Pick<ActivityDependencies, 'db' | 'channel'>) {
  return {
    /**
     * Delivers one signed message to its destination now (the "release immediately" path; batch
     * releases go through the release workflow). A retry after a lost answer is safe: the NAP
     * reports a replay of the same reference id and SFTP finds the same package already there.
     */
    async deliverMessage(input: { certificateId: string; iviReferenceId: string; destination: string; audit: AuditEntry[] }): Promise<DeliveryResult> {
      const message = await loadSignedMessage(db, input.iviReferenceId).catch(rethrowClassified);
      const target = await channel(input.destination).catch(rethrowClassified);
      heartbeat('sending');
      let record: DeliveryRecord;
      if (target.kind === 'nap') {
        const outcome = await target.deliverMessage(message).catch(rethrowClassified);
        if (outcome.status === 'rejected') nonRetryable(new DestinationRejectedError(`${input.destination} rejected the message: ${outcome.code}: ${outcome.message}`));
        record = napDeliveryRecord(message, input.destination, outcome.receipt);
      } else {
        const outcome = await target
          .deliverPackage({ packageId: `ecoc-${message.vin}-${input.iviReferenceId}`, createdAt: new Date(0).toISOString(), messages: [message] })
          .catch(rethrowClassified);
        if (outcome.status === 'rejected') nonRetryable(new DestinationRejectedError(`${input.destination} refused the package: ${outcome.code}: ${outcome.message}`));
        record = sftpDeliveryRecord(message, input.destination, outcome, new Date().toISOString());
      }
      heartbeat('recording');
      await db.$transaction(async (tx) => {
        await recordDeliveries(tx, [record]);
        await writeAuditEntries(tx, input.audit);
      });
      return { reference: record.reference, at: record.at, acknowledged: record.acknowledged };
    },

    /** Asks a NAP to delete the vehicle's eCoC (withdrawal by VIN); partners get no delete. */
    async withdrawAtDestination(input: { certificateId: string; vin: string; destination: string; reason: string; audit: AuditEntry[] }): Promise<{ reference: string }> {
      const target = await channel(input.destination).catch(rethrowClassified);
      let reference = 'partner-not-notified';
      if (target.kind === 'nap') {
        const outcome = await target.withdraw(input.vin, input.reason).catch(rethrowClassified);
        if (outcome.status === 'rejected') nonRetryable(new DestinationRejectedError(`${input.destination} refused the withdrawal: ${outcome.code}: ${outcome.message}`));
        reference = outcome.receipt.receiptId;
        await db.deliveryReceipt.upsert({
          where: { iviReferenceId_destination_kind: { iviReferenceId: `withdrawal:${input.certificateId}`, destination: input.destination, kind: 'nap_withdrawal' } },
          create: {
            id: randomUUID(),
            certificateId: input.certificateId,
            iviReferenceId: `withdrawal:${input.certificateId}`,
            messageVersion: 0,
            destination: input.destination,
            kind: 'nap_withdrawal',
            reference,
            detail: outcome.receipt,
            deliveredAt: new Date(outcome.receipt.receivedAt),
          },
          update: {},
        });
      }
      await writeAuditEntries(db, input.audit);
      return { reference };
    },
  };
}
