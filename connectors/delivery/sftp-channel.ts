import { createHash } from 'node:crypto';
import type { Logger } from '../../platform/logger.ts';
import type { SftpDestination } from '../../schemas/config/destinations.ts';
import { withSftpSession } from '../sftp/client.ts';
import type { AcknowledgementOutcome, IviPackageRequest, PackageOutcome, SftpDeliveryChannel } from './channel.ts';
import { PermanentConnectorError } from './errors.ts';
import { acknowledgementFileName, buildIviPackage, packageAcknowledgementSchema, packageFileName, packageIdSchema } from './sftp-package.ts';

/**
 * SFTP partner delivery. Each call opens its own session (activities may run on any worker and
 * be retried), uploads atomically, and never overwrites: a package already present with the same
 * bytes counts as delivered, one with different bytes is a conflict that needs a person.
 */
export function createSftpDeliveryChannel(destination: SftpDestination, options: { logger: Logger }): SftpDeliveryChannel {
  const logger = options.logger.child({ component: 'delivery', destination: destination.id, kind: 'sftp' });
  return {
    kind: 'sftp',
    destinationId: destination.id,

    async deliverPackage(request: IviPackageRequest): Promise<PackageOutcome> {
      const built = await buildIviPackage(destination.id, request);
      const summary = { packageName: built.name, sha256: built.sha256, size: built.zip.byteLength, count: built.manifest.count };
      return withSftpSession(destination, { logger }, async (session) => {
        if (await session.exists(built.name)) {
          const remote = await session.read(built.name);
          const remoteHash = createHash('sha256').update(remote).digest('hex');
          if (remoteHash === built.sha256) {
            logger.info(summary, 'package already on the partner server; not uploaded again');
            return { status: 'already_delivered', ...summary };
          }
          logger.error({ ...summary, remoteHash }, 'a different package with the same name is on the partner server');
          return {
            status: 'rejected',
            packageName: built.name,
            code: 'PACKAGE_CONFLICT',
            message: `${destination.id}: ${built.name} already exists with different content (remote sha256 ${remoteHash}, ours ${built.sha256}); not overwritten`,
          };
        }
        await session.uploadAtomic(built.name, built.zip);
        logger.info(summary, 'package delivered');
        return { status: 'delivered', ...summary };
      });
    },

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
