import { createHash } from 'node:crypto';
import type { Logger } from '../../platform/logger.ts';
import type { SftpDestination } from '../../schemas/config/destinations.ts';
import { withSftpSession } from '../sftp/client.ts';
import type { AcknowledgementOutcome, DeliveryChannel, DeliveryOutcome, DestinationReceipt, WithdrawalOutcome } from './channel.ts';
import { PermanentConnectorError } from './errors.ts';
import {
  acknowledgementFileName,
  buildIviPackage,
  packageAcknowledgementSchema,
  packageFileName,
  packageIdSchema,
  readPackageManifest,
  type PackageManifest,
} from './sftp-package.ts';

/** What a withdrawal at an SFTP partner records instead of a receipt: partners get no delete. */
export const PARTNER_NOT_NOTIFIED = 'partner-not-notified';

/**
 * SFTP partner delivery: a batch is one zip package (`<packageId>.zip`: the signed files plus a
 * manifest), acknowledged later by the partner's `<packageId>.ack.json`. Each call opens its own
 * session (activities may run on any worker and be retried), uploads atomically, and never
 * overwrites: a package already present with the same bytes counts as delivered, one with
 * different bytes is a conflict that needs a person (every message of the batch is rejected).
 * The rename of the finished upload is the commit point: a package that made it but whose
 * receipts were never stored is found again by `findDelivered` rather than sent in a later batch.
 */
export function createSftpDeliveryChannel(destination: SftpDestination, options: { logger: Logger }): DeliveryChannel {
  const logger = options.logger.child({ component: 'delivery', destination: destination.id, kind: 'sftp' });
  return {
    kind: 'sftp',
    destinationId: destination.id,

    async deliver(batch, deliverOptions): Promise<DeliveryOutcome[]> {
      if (batch.messages.length === 0) return [];
      const built = await buildIviPackage(destination.id, batch);
      const summary = { packageName: built.name, sha256: built.sha256, size: built.zip.byteLength, count: built.manifest.count };
      const status = await withSftpSession(destination, { logger }, async (session) => {
        if (await session.exists(built.name)) {
          const remote = await session.read(built.name);
          const remoteHash = createHash('sha256').update(remote).digest('hex');
          if (remoteHash === built.sha256) {
            logger.info(summary, 'package already on the partner server; not uploaded again');
            return 'already_delivered' as const;
          }
          logger.error({ ...summary, remoteHash }, 'a different package with the same name is on the partner server');
          return { remoteHash };
        }
        await session.uploadAtomic(built.name, built.zip);
        logger.info(summary, 'package delivered');
        return 'delivered' as const;
      });
      deliverOptions?.onProgress?.();
      if (typeof status === 'object') {
        const message = `${destination.id}: ${built.name} already exists with different content (remote sha256 ${status.remoteHash}, ours ${built.sha256}); not overwritten`;
        return batch.messages.map(({ iviReferenceId }) => ({ iviReferenceId, status: 'rejected', code: 'PACKAGE_CONFLICT', message }));
      }
      const at = new Date().toISOString();
      return packageReceipts(built.manifest, { ...summary, status }, at).map((found) => ({ ...found, status: 'delivered' }));
    },

    async findDelivered(packageIdPrefix) {
      return withSftpSession(destination, { logger }, async (session) => {
        const names = (await session.list())
          .filter((file) => file.type === 'file' && file.name.startsWith(packageIdPrefix) && file.name.endsWith('.zip'))
          .sort((a, b) => a.name.localeCompare(b.name));
        const found: { iviReferenceId: string; receipt: DestinationReceipt }[] = [];
        for (const file of names) {
          const zip = await session.read(file.name);
          const manifest = await readPackageManifest(zip).catch((error: unknown) => {
            logger.warn({ packageName: file.name, reason: (error as Error).message }, 'not a package of ours; ignored');
            return undefined;
          });
          if (!manifest) continue;
          const summary = { packageName: file.name, sha256: createHash('sha256').update(zip).digest('hex'), size: zip.byteLength, count: manifest.count, status: 'found_on_partner' };
          logger.warn(summary, 'package on the partner server without stored receipts; recorded as delivered');
          found.push(...packageReceipts(manifest, summary, file.modifiedAt.toISOString()));
        }
        return found;
      });
    },

    withdraw: async (): Promise<WithdrawalOutcome> => ({ status: 'not_notified', reference: PARTNER_NOT_NOTIFIED }),

    async fetchAcknowledgement(packageId: string): Promise<AcknowledgementOutcome> {
      const id = packageIdSchema.parse(packageId);
      const packageName = packageFileName(id);
      const ackName = acknowledgementFileName(id);
      return withSftpSession(destination, { logger }, async (session) => {
        if (!(await session.exists(ackName))) return { status: 'pending', packageName };
        const text = (await session.read(ackName)).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw new PermanentConnectorError(`${destination.id}: ${ackName} is not JSON: ${(error as Error).message}`, 'ACK_INVALID');
        }
        const parsed = packageAcknowledgementSchema.safeParse(json);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
          throw new PermanentConnectorError(`${destination.id}: ${ackName} does not match the acknowledgement schema: ${issues}`, 'ACK_INVALID');
        }
        if (parsed.data.packageId !== id) {
          throw new PermanentConnectorError(`${destination.id}: ${ackName} acknowledges package "${parsed.data.packageId}", not "${id}"`, 'ACK_INVALID');
        }
        return { status: 'acknowledged', packageName, acknowledgement: parsed.data };
      });
    },

    close: async () => undefined,
  };
}

/** One receipt per file of a package: what `deliver` returns and what `findDelivered` recovers. */
function packageReceipts(manifest: PackageManifest, summary: { packageName: string; status: string }, at: string): { iviReferenceId: string; receipt: DestinationReceipt }[] {
  return manifest.files.map((file) => ({
    iviReferenceId: file.iviReferenceId,
    receipt: { kind: 'sftp_package', reference: summary.packageName, at, acknowledged: false, detail: { packageId: manifest.packageId, ...summary, file: file.name } },
  }));
}
