import type { Logger } from '../../platform/logger.ts';
import type { NapDestination } from '../../schemas/config/destinations.ts';
import { createNapClient } from '../nap/client.ts';
import type { MessageOutcome, NapDeliveryChannel, SignedIviMessage, WithdrawalOutcome } from './channel.ts';

/** One signed IVI message per VIN per call; withdrawal is a delete by VIN. */
export async function createNapDeliveryChannel(destination: NapDestination, options: { logger: Logger; timeoutMs: number }): Promise<NapDeliveryChannel> {
  const client = await createNapClient(destination, options);
  return {
    kind: 'nap',
    destinationId: destination.id,

    async deliverMessage(message: SignedIviMessage): Promise<MessageOutcome> {
      const result = await client.call({ operation: 'SubmitIvi', vin: message.vin, iviReferenceId: message.iviReferenceId, iviVersionNumber: message.iviVersionNumber, xml: message.xml });
      return result.status === 'accepted'
        ? { status: 'delivered', vin: message.vin, receipt: result.receipt }
        : { status: 'rejected', vin: message.vin, code: result.code, message: result.message };
    },

    async withdraw(vin: string, reason: string): Promise<WithdrawalOutcome> {
      const result = await client.call({ operation: 'DeleteIvi', vin, reason });
      return result.status === 'accepted'
        ? { status: 'withdrawn', vin, receipt: result.receipt }
        : { status: 'rejected', vin, code: result.code, message: result.message };
    },

    close: async () => client.close(),
  };
}
