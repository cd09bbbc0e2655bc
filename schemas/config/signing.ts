import { z } from 'zod';
import { duration } from './types.ts';

const optionalText = z.string().min(1).optional();

/**
 * Signing: which key signs IVI messages and how its certificate is watched. Defaults sign out of the
 * box with a generated software key under ECOC_DATA_DIR; production points ECOC_SIGNER=pkcs11 at an HSM.
 */
export const signingConfigSchema = z.object({
  ECOC_SIGNER: z.enum(['software', 'pkcs11']).default('software'),
  ECOC_PKCS11_MODULE: z.string().min(1).default('/usr/lib/softhsm/libsofthsm2.so'),
  ECOC_PKCS11_TOKEN_LABEL: optionalText,
  /** Slot ID as `pkcs11-tool -L` prints it; used when no token label is set. */
  ECOC_PKCS11_SLOT: z.coerce.number().int().min(0).optional(),
  ECOC_PKCS11_PIN: optionalText,
  ECOC_PKCS11_KEY_LABEL: optionalText,
  ECOC_PKCS11_KEY_ID: z.string().regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected the CKA_ID as hex, e.g. 01 or a1b2').optional(),
  /** PEM certificate; with pkcs11 it overrides the certificate object on the token. */
  ECOC_SIGNING_CERT_FILE: optionalText,
  /** PEM private key for ECOC_SIGNER=software; unset: a generated key under ECOC_DATA_DIR/signing. */
  ECOC_SIGNING_KEY_FILE: optionalText,
  ECOC_PKCS11_SESSIONS: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * How long one signature waits for a token that stopped answering before the step fails (and is
   * retried later). Below the signing step's 30 s timeout, so the step fails with the signer's
   * "token unavailable" reason rather than as a timeout with the signer still retrying.
   */
  ECOC_PKCS11_RETRY_TIMEOUT: duration.default(20_000).refine((ms) => ms < 30_000, 'must be below 30s, the signing step\'s timeout'),
  ECOC_SIGNING_CERT_WARN_DAYS: z.coerce.number().int().min(0).default(30),
  ECOC_SIGNING_XADES: z.stringbool().default(false),
  /** Threads for the signing step's XML work (canonicalisation, verification, XSD); unset: one per core. */
  ECOC_SIGNING_THREADS: z.coerce.number().int().min(1).max(64).optional(),
});

export type SigningConfig = z.infer<typeof signingConfigSchema>;
