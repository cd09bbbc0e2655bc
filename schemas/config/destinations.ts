import { z } from 'zod';
import { duration, port } from './types.ts';

/**
 * Delivery destinations live in a JSON file (`ECOC_DESTINATIONS_FILE`) rather than in variables:
 * there are several, each with its own connection settings. Secrets are never inline: entries
 * name files (private keys, client certificates) that the deployment mounts.
 */
export const destinationsConfigSchema = z.object({
  ECOC_DESTINATIONS_FILE: z.string().min(1).optional(),
  /** Upper bound for one delivery call (one NAP request, one SFTP package upload). */
  ECOC_DELIVERY_TIMEOUT: duration.prefault('60s'),
  /** Port of the NAP simulator `ecoc start` runs when no destinations file is given (0 = a free one). */
  ECOC_NAP_SIMULATOR_PORT: port.default(7443),
});

export const destinationId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "-" and "_" (at most 63 characters)');

/** `SHA256:<base64 without padding>` exactly as `ssh-keygen -lf <host key>` prints it. */
export const hostKeySha256 = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'expected an OpenSSH SHA-256 fingerprint such as SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8');

/** An SFTP server: used for partner destinations and for the ERP inbox. */
export const sftpEndpointSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  privateKeyFile: z.string().min(1),
  /** File holding the passphrase of the private key, if it has one. */
  passphraseFile: z.string().min(1).optional(),
  hostKeySha256,
  remoteDir: z.string().min(1),
  connectTimeoutMs: z.number().int().positive().default(10_000),
});

/** What every destination has: its id, and optionally what it is in words (logs, console, readiness). */
const destinationBase = z.object({
  id: destinationId,
  description: z.string().min(1).max(200).optional(),
});

export const napDestinationSchema = destinationBase.extend({
  kind: z.literal('nap'),
  url: z.url({ protocol: /^https$/, error: 'a NAP is only reachable over https' }),
  clientCertFile: z.string().min(1),
  clientKeyFile: z.string().min(1),
  caFile: z.string().min(1),
  /** Member State whose NAP this is (`e6`), for routing checks and logs. */
  memberState: z.string().regex(/^e\d{1,2}$/, 'expected a type-approval country code such as e6').optional(),
  soapVersion: z.enum(['1.1', '1.2']).default('1.1'),
});

export const sftpDestinationSchema = sftpEndpointSchema.extend(destinationBase.shape).extend({
  kind: z.literal('sftp'),
});

/** A folder on this host: each signed message and its receipt become files there (the embedded default). */
export const archiveDestinationSchema = destinationBase.extend({
  kind: z.literal('archive'),
  dir: z.string().min(1),
});

export const destinationSchema = z.discriminatedUnion('kind', [napDestinationSchema, sftpDestinationSchema, archiveDestinationSchema]);

export const destinationsFileSchema = z
  .array(destinationSchema)
  .superRefine((destinations, context) => {
    const seen = new Set<string>();
    destinations.forEach((destination, index) => {
      if (seen.has(destination.id)) context.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate destination id "${destination.id}"` });
      seen.add(destination.id);
    });
  });

export type SftpEndpoint = z.infer<typeof sftpEndpointSchema>;
export type NapDestination = z.infer<typeof napDestinationSchema>;
export type SftpDestination = z.infer<typeof sftpDestinationSchema>;
export type ArchiveDestination = z.infer<typeof archiveDestinationSchema>;
export type Destination = z.infer<typeof destinationSchema>;
