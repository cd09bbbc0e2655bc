import { randomUUID } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import type { SignedIviMessage } from '../connectors/delivery/channel.ts';
import { writeAuditEntries } from '../certificates/audit-store.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';
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
  async function signedMessage(iviReferenceId: string): Promise<SignedIviMessage & { certificateId: string }> {
    const message = await db.certificateMessage.findUnique({ where: { iviReferenceId }, include: { certificate: { select: { vin: true } } } });
    if (!message?.signedXml) nonRetryable(new Error(`message ${iviReferenceId} is not signed; only signed messages are delivered`));
    return {
      certificateId: message.certificateId,
      vin: message.certificate.vin,
      iviReferenceId,
      iviVersionNumber: message.messageVersion,
      xml: new Uint8Array(message.signedXml),
    };
  }

  return {
    /**
     * Delivers one signed message to its destination now (the "release immediately" path; batch
     * releases go through the release workflow). A retry after a lost answer is safe: the NAP
     * reports a replay of the same reference id and SFTP finds the same package already there.
     */
    async deliverMessage(input: { certificateId: string; iviReferenceId: string; destination: string; audit: AuditEntry[] }): Promise<DeliveryResult> {
      const message = await signedMessage(input.iviReferenceId);
      const target = await channel(input.destination).catch(rethrowClassified);
      heartbeat('sending');
      let result: DeliveryResult & { kind: string; detail: object };
      if (target.kind === 'nap') {
        const outcome = await target.deliverMessage(message).catch(rethrowClassified);
        if (outcome.status === 'rejected') nonRetryable(new DestinationRejectedError(`${input.destination} rejected the message: ${outcome.code}: ${outcome.message}`));
        result = { reference: outcome.receipt.receiptId, at: outcome.receipt.receivedAt, acknowledged: true, kind: 'nap_receipt', detail: outcome.receipt };
      } else {
        const outcome = await target
          .deliverPackage({ packageId: `ecoc-${message.vin}-${input.iviReferenceId}`, createdAt: new Date(0).toISOString(), messages: [message] })
          .catch(rethrowClassified);
        if (outcome.status === 'rejected') nonRetryable(new DestinationRejectedError(`${input.destination} refused the package: ${outcome.code}: ${outcome.message}`));
        result = { reference: outcome.packageName, at: new Date().toISOString(), acknowledged: false, kind: 'sftp_package', detail: outcome };
      }
      heartbeat('recording');
      await db.$transaction(async (tx) => {
        await tx.deliveryReceipt.upsert({
          where: { iviReferenceId_destination_kind: { iviReferenceId: input.iviReferenceId, destination: input.destination, kind: result.kind } },
          create: {
            id: randomUUID(),
            certificateId: input.certificateId,
            iviReferenceId: input.iviReferenceId,
            messageVersion: message.iviVersionNumber,
            destination: input.destination,
            kind: result.kind,
            reference: result.reference,
            detail: result.detail,
            deliveredAt: new Date(result.at),
            acknowledgedAt: result.acknowledged ? new Date(result.at) : null,
          },
          update: {},
        });
        await writeAuditEntries(tx, input.audit);
      });
      return { reference: result.reference, at: result.at, acknowledged: result.acknowledged };
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
