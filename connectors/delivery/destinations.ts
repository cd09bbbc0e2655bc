import { readFile } from 'node:fs/promises';
import type { Logger } from '../../platform/logger.ts';
import { destinationsFileSchema, type Destination } from '../../schemas/config/destinations.ts';
import { createArchiveDeliveryChannel } from './archive-channel.ts';
import type { DeliveryChannel } from './channel.ts';
import { PermanentConnectorError } from './errors.ts';
import { createNapDeliveryChannel } from './nap-channel.ts';
import { createSftpDeliveryChannel } from './sftp-channel.ts';

export class UnknownDestinationError extends Error {
  override name = 'UnknownDestinationError';
}

/** Reads and validates `ECOC_DESTINATIONS_FILE`; errors name the file and the entry. */
export async function loadDestinations(file: string | undefined): Promise<Destination[]> {
  if (file === undefined) return [];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PermanentConnectorError(`ECOC_DESTINATIONS_FILE: cannot read ${file}: ${(error as Error).message}`, 'DESTINATIONS_UNREADABLE');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PermanentConnectorError(`ECOC_DESTINATIONS_FILE: ${file} is not JSON: ${(error as Error).message}`, 'DESTINATIONS_INVALID');
  }
  const parsed = destinationsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  [${issue.path.join('.')}] ${issue.message}`).join('\n');
    throw new PermanentConnectorError(`ECOC_DESTINATIONS_FILE: ${file} is invalid:\n${issues}`, 'DESTINATIONS_INVALID');
  }
  return parsed.data;
}

const idsByFile = new Map<string, Promise<string[]>>();

/**
 * Ids of the configured destinations, for checks that only need to know they exist (ingest): the
 * file is read once per process, like the worker's channels; a failed read is tried again next time.
 */
export function configuredDestinationIds(file: string | undefined): Promise<string[]> {
  if (file === undefined) return Promise.resolve([]);
  let ids = idsByFile.get(file);
  if (!ids) {
    ids = loadDestinations(file).then((destinations) => destinations.map((destination) => destination.id));
    ids.catch(() => idsByFile.delete(file));
    idsByFile.set(file, ids);
  }
  return ids;
}

export interface DeliveryChannelOptions {
  logger: Logger;
  /** Upper bound per call (`ECOC_DELIVERY_TIMEOUT`). */
  timeoutMs: number;
  /** Calls in flight at once within one delivery, for destinations called once per message (`ECOC_RELEASE_CALL_CONCURRENCY`); default 1. */
  concurrency?: number | undefined;
}

/** The channel for one configured destination; an unknown id names the ones that exist. */
export async function createDeliveryChannel(destinations: Destination[], destinationId: string, options: DeliveryChannelOptions): Promise<DeliveryChannel> {
  const destination = destinations.find((d) => d.id === destinationId);
  if (!destination) {
    const known = destinations.map((d) => d.id);
    throw new UnknownDestinationError(
      `unknown delivery destination "${destinationId}"; configured: ${known.length > 0 ? known.join(', ') : 'none (set ECOC_DESTINATIONS_FILE)'}`,
    );
  }
  switch (destination.kind) {
    case 'nap':
      return createNapDeliveryChannel(destination, options);
    case 'sftp':
      return createSftpDeliveryChannel(destination, options);
    case 'archive':
      return createArchiveDeliveryChannel(destination, options);
  }
}
