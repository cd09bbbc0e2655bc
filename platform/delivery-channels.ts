import type { DeliveryChannel } from '../connectors/delivery/channel.ts';
import { createDeliveryChannel, loadDestinations, UnknownDestinationError } from '../connectors/delivery/destinations.ts';
import { PermanentConnectorError } from '../connectors/delivery/errors.ts';
import type { Config } from '../schemas/config/index.ts';
import type { Logger } from './logger.ts';

export interface ChannelRegistry {
  channel(destinationId: string): Promise<DeliveryChannel>;
  close(): Promise<void>;
}

/** Opens each configured destination's channel on first use and reuses it for the worker's life. */
export async function createChannelRegistry(config: Config, logger: Logger): Promise<ChannelRegistry> {
  const destinations = await loadDestinations(config.ECOC_DESTINATIONS_FILE);
  const open = new Map<string, Promise<DeliveryChannel>>();
  return {
    channel(destinationId) {
      let channel = open.get(destinationId);
      if (!channel) {
        channel = createDeliveryChannel(destinations, destinationId, {
          logger: logger.child({ destination: destinationId }),
          timeoutMs: config.ECOC_DELIVERY_TIMEOUT,
          concurrency: config.ECOC_RELEASE_CALL_CONCURRENCY,
        }).catch((error: unknown) => {
          open.delete(destinationId);
          // An unknown destination stays unknown until someone edits the configuration.
          if (error instanceof UnknownDestinationError) throw new PermanentConnectorError(error.message, 'UNKNOWN_DESTINATION');
          throw error;
        });
        open.set(destinationId, channel);
      }
      return channel;
    },
    async close() {
      const channels = await Promise.allSettled(open.values());
      await Promise.allSettled(channels.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)));
      open.clear();
    },
  };
}
