import type { Config } from '../schemas/config/index.ts';
import { sftpEndpointSchema, type SftpEndpoint } from '../schemas/config/destinations.ts';

export class InboxConfigError extends Error {
  override name = 'InboxConfigError';
}

export interface InboxSettings {
  endpoint: SftpEndpoint;
  mappingsFile: string;
  pollIntervalMs: number;
}

const REQUIRED = ['ECOC_INBOX_SFTP_USERNAME', 'ECOC_INBOX_SFTP_PRIVATE_KEY_FILE', 'ECOC_INBOX_SFTP_HOST_KEY_SHA256', 'ECOC_INBOX_SFTP_REMOTE_DIR', 'ECOC_ERP_MAPPINGS_FILE'] as const;

/**
 * The inbox settings, or undefined when no inbox is configured (no `ECOC_INBOX_SFTP_HOST`). A
 * half-configured inbox is an error naming what is missing, not a silently idle poller.
 */
export function inboxSettings(config: Config): InboxSettings | undefined {
  if (!config.ECOC_INBOX_SFTP_HOST) {
    const stray = REQUIRED.filter((name) => config[name] !== undefined);
    if (stray.length > 0) throw new InboxConfigError(`${stray.join(', ')} set but ECOC_INBOX_SFTP_HOST is not: set it to enable the ERP inbox, or unset the others`);
    return undefined;
  }
  const missing = REQUIRED.filter((name) => config[name] === undefined);
  if (missing.length > 0) throw new InboxConfigError(`the ERP inbox (ECOC_INBOX_SFTP_HOST=${config.ECOC_INBOX_SFTP_HOST}) also needs ${missing.join(', ')}`);
  return {
    endpoint: sftpEndpointSchema.parse({
      host: config.ECOC_INBOX_SFTP_HOST,
      port: config.ECOC_INBOX_SFTP_PORT,
      username: config.ECOC_INBOX_SFTP_USERNAME,
      privateKeyFile: config.ECOC_INBOX_SFTP_PRIVATE_KEY_FILE,
      passphraseFile: config.ECOC_INBOX_SFTP_PASSPHRASE_FILE,
      hostKeySha256: config.ECOC_INBOX_SFTP_HOST_KEY_SHA256,
      remoteDir: config.ECOC_INBOX_SFTP_REMOTE_DIR,
    }),
    mappingsFile: config.ECOC_ERP_MAPPINGS_FILE!,
    pollIntervalMs: config.ECOC_INBOX_POLL_INTERVAL,
  };
}
