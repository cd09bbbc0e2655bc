import { mapWithConcurrency } from '../../platform/concurrency.ts';
import type { Logger } from '../../platform/logger.ts';
import type { NapDestination } from '../../schemas/config/destinations.ts';
import { createNapClient } from '../nap/client.ts';
import type { DeliveryChannel, DeliveryOutcome, WithdrawalOutcome } from './channel.ts';
import { PermanentConnectorError, TemporarilyUnavailableError } from './errors.ts';

export interface NapChannelOptions {
  logger: Logger;
  timeoutMs: number;
  /** Calls in flight at once within one `deliver` (`ECOC_RELEASE_CALL_CONCURRENCY`); default 1. */
  concurrency?: number | undefined;
}

/**
 * One signed IVI message per VIN per call; the NAP's receipt is its acknowledgement. An outage
 * on one call is that message's `unavailable` outcome, so the messages that went through are
 * stored before the caller retries. Withdrawal is a delete by VIN.
 */
export async function createNapDeliveryChannel(destination: NapDestination, options: NapChannelOptions): Promise<DeliveryChannel> {
  const client = await createNapClient(destination, options);
  const concurrency = options.concurrency ?? 1;
  return {
    kind: 'nap',
    destinationId: destination.id,

    deliver: (batch, deliverOptions) =>
      mapWithConcurrency(batch.messages, concurrency, async (message): Promise<DeliveryOutcome> => {
        const { iviReferenceId } = message;
        try {
          const result = await client.call({ operation: 'SubmitIvi', vin: message.vin, iviReferenceId, iviVersionNumber: message.iviVersionNumber, xml: message.xml });
          return result.status === 'accepted'
            ? { iviReferenceId, status: 'delivered', receipt: { kind: 'nap_receipt', reference: result.receipt.receiptId, at: result.receipt.receivedAt, acknowledged: true, detail: result.receipt } }
            : { iviReferenceId, status: 'rejected', code: result.code, message: result.message };
        } catch (error) {
          if (error instanceof TemporarilyUnavailableError) return { iviReferenceId, status: 'unavailable', error };
          // An unreadable answer settles this message only: the others' receipts must still be stored.
          if (error instanceof PermanentConnectorError && error.code === 'NAP_PROTOCOL_ERROR') return { iviReferenceId, status: 'rejected', code: error.code, message: error.message };
          throw error;
        } finally {
          deliverOptions?.onProgress?.();
        }
      }),

    async withdraw(vin, reason): Promise<WithdrawalOutcome> {
      const result = await client.call({ operation: 'DeleteIvi', vin, reason });
      return result.status === 'accepted'
        ? { status: 'withdrawn', receipt: { kind: 'nap_withdrawal', reference: result.receipt.receiptId, at: result.receipt.receivedAt, acknowledged: true, detail: result.receipt } }
        : { status: 'rejected', code: result.code, message: result.message };
    },

    fetchAcknowledgement: async () => ({ status: 'not_applicable' }),

    close: async () => client.close(),
  };
}
