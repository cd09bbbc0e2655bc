import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../platform/atomic-file.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ArchiveDestination } from '../../schemas/config/destinations.ts';
import type { DeliveryChannel, DeliveryOutcome, SignedIviMessage, WithdrawalOutcome } from './channel.ts';

/**
 * A local archive folder: each signed message becomes `messages/<VIN>/<version>-<iviReferenceId>.xml`
 * with its receipt next to it (`….receipt.json`), a withdrawal `withdrawals/<VIN>/<at>.json`. Files
 * are written atomically (platform/atomic-file.ts), so a reader never sees half a file. Delivering the
 * same message again finds the same bytes and answers with the first receipt (one file, not two);
 * other bytes under the same reference id are a conflict nobody should overwrite.
 */
export function createArchiveDeliveryChannel(destination: ArchiveDestination, options: { logger: Logger }): DeliveryChannel {
  const logger = options.logger.child({ component: 'delivery', destination: destination.id, kind: 'archive' });
  return {
    kind: 'archive',
    destinationId: destination.id,

    async deliver(batch, deliverOptions): Promise<DeliveryOutcome[]> {
      const outcomes: DeliveryOutcome[] = [];
      for (const message of batch.messages) {
        outcomes.push(await archiveMessage(destination, message, logger));
        deliverOptions?.onProgress?.();
      }
      return outcomes;
    },

    async withdraw(vin, reason): Promise<WithdrawalOutcome> {
      const at = new Date().toISOString();
      const name = join('withdrawals', safeSegment(vin), `${at.replace(/[:.]/g, '-')}.json`);
      await writeFileAtomic(join(destination.dir, name), JSON.stringify({ vin, reason, at }, null, 2));
      logger.info({ vin, file: name }, 'withdrawal archived');
      return { status: 'withdrawn', receipt: { kind: 'archive_withdrawal', reference: name, at, acknowledged: true, detail: { vin, reason } } };
    },

    fetchAcknowledgement: async () => ({ status: 'not_applicable' }),

    close: async () => undefined,
  };
}

interface ArchiveReceipt {
  file: string;
  vin: string;
  iviReferenceId: string;
  iviVersionNumber: number;
  sha256: string;
  archivedAt: string;
}

async function archiveMessage(destination: ArchiveDestination, message: SignedIviMessage, logger: Logger): Promise<DeliveryOutcome> {
  const { iviReferenceId } = message;
  const file = join('messages', safeSegment(message.vin), `${message.iviVersionNumber}-${safeSegment(iviReferenceId)}.xml`);
  const path = join(destination.dir, file);
  const sha256 = createHash('sha256').update(message.xml).digest('hex');
  const existing = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && createHash('sha256').update(existing).digest('hex') !== sha256) {
    return { iviReferenceId, status: 'rejected', code: 'ARCHIVE_CONFLICT', message: `${destination.id}: ${file} already holds different bytes; not overwritten` };
  }
  // The receipt is written last: a crash between the two leaves a message that the retry completes.
  const receiptPath = `${path.slice(0, -'.xml'.length)}.receipt.json`;
  const stored = existing === undefined ? undefined : await readReceipt(receiptPath);
  const receipt: ArchiveReceipt = stored ?? { file, vin: message.vin, iviReferenceId, iviVersionNumber: message.iviVersionNumber, sha256, archivedAt: new Date().toISOString() };
  if (existing === undefined) await writeFileAtomic(path, message.xml);
  if (!stored) await writeFileAtomic(receiptPath, JSON.stringify(receipt, null, 2));
  logger.info({ vin: message.vin, iviReferenceId, file, replayed: stored !== undefined }, stored ? 'message already archived' : 'message archived');
  return {
    iviReferenceId,
    status: 'delivered',
    receipt: { kind: 'archive_file', reference: file, at: receipt.archivedAt, acknowledged: true, detail: { ...receipt, replayed: stored !== undefined } },
  };
}

async function readReceipt(path: string): Promise<ArchiveReceipt | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ArchiveReceipt;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** VINs and reference ids are validated upstream; this only guarantees one path segment. */
const safeSegment = (value: string): string => value.replace(/[^A-Za-z0-9_-]/g, '_');
