import { z } from 'zod';
import { hostKeySha256 } from './destinations.ts';
import { duration, port } from './types.ts';

/**
 * The ERP inbox: one SFTP server where integration teams drop CSV/JSON files, one directory per
 * manufacturer (`<ECOC_INBOX_SFTP_REMOTE_DIR>/<manufacturerId>/`), with the manufacturer's
 * column mapping in `ECOC_ERP_MAPPINGS_FILE`. The directory decides the manufacturer, never the
 * file's content: the SFTP server's permissions then decide who may deliver for whom. With no
 * `ECOC_INBOX_SFTP_HOST` there is no inbox and the rest of the stack runs as usual.
 */
export const inboxConfigSchema = z.object({
  ECOC_INBOX_SFTP_HOST: z.string().min(1).optional(),
  ECOC_INBOX_SFTP_PORT: port.default(22),
  ECOC_INBOX_SFTP_USERNAME: z.string().min(1).optional(),
  ECOC_INBOX_SFTP_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  ECOC_INBOX_SFTP_PASSPHRASE_FILE: z.string().min(1).optional(),
  /** `SHA256:…` as `ssh-keygen -lf` prints the server's host key; host key verification is always on. */
  ECOC_INBOX_SFTP_HOST_KEY_SHA256: hostKeySha256.optional(),
  ECOC_INBOX_SFTP_REMOTE_DIR: z.string().min(1).optional(),
  /** JSON array of ERP mappings (schemas/erp/mapping.ts), one per manufacturer. */
  ECOC_ERP_MAPPINGS_FILE: z.string().min(1).optional(),
  ECOC_INBOX_POLL_INTERVAL: duration.prefault('1m'),
});

export type InboxConfig = z.infer<typeof inboxConfigSchema>;
