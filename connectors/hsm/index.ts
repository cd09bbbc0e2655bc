import type { Logger } from '../../platform/logger.ts';
import type { SigningConfig } from '../../schemas/config/signing.ts';
import { SignerConfigurationError } from './errors.ts';
import { openPkcs11Signer } from './pkcs11.ts';
import type { KeySigner } from './signer.ts';
import { ensureSoftwareKey, openSoftwareSigner } from './software.ts';

export type { KeySigner, SignerHealth, SignerTransport } from './signer.ts';
export { SignerConfigurationError, SignerUnavailableError, SigningError } from './errors.ts';

/** Opens the signer chosen by ECOC_SIGNER; fails at start-up on a wrong PIN, a missing key or a key/certificate mismatch. */
export async function createKeySigner(config: SigningConfig & { ECOC_DATA_DIR: string }, logger?: Logger): Promise<KeySigner> {
  const log = logger?.child({ component: 'signer', transport: config.ECOC_SIGNER });
  if (config.ECOC_SIGNER === 'pkcs11') {
    if (config.ECOC_PKCS11_PIN === undefined) {
      throw new SignerConfigurationError('pin_unspecified', 'ECOC_SIGNER=pkcs11 needs ECOC_PKCS11_PIN (the token user PIN).');
    }
    return openPkcs11Signer({
      modulePath: config.ECOC_PKCS11_MODULE,
      tokenLabel: config.ECOC_PKCS11_TOKEN_LABEL,
      slot: config.ECOC_PKCS11_SLOT,
      pin: config.ECOC_PKCS11_PIN,
      keyLabel: config.ECOC_PKCS11_KEY_LABEL,
      keyId: config.ECOC_PKCS11_KEY_ID,
      certificateFile: config.ECOC_SIGNING_CERT_FILE,
      sessions: config.ECOC_PKCS11_SESSIONS,
      retryTimeoutMs: config.ECOC_PKCS11_RETRY_TIMEOUT,
      logger: log,
    });
  }
  if ((config.ECOC_SIGNING_KEY_FILE === undefined) !== (config.ECOC_SIGNING_CERT_FILE === undefined)) {
    throw new SignerConfigurationError('software_key_incomplete', 'Set both ECOC_SIGNING_KEY_FILE and ECOC_SIGNING_CERT_FILE, or neither to use the generated local key.');
  }
  if (config.ECOC_SIGNING_KEY_FILE !== undefined && config.ECOC_SIGNING_CERT_FILE !== undefined) {
    return openSoftwareSigner({ keyFile: config.ECOC_SIGNING_KEY_FILE, certificateFile: config.ECOC_SIGNING_CERT_FILE });
  }
  const files = await ensureSoftwareKey(config.ECOC_DATA_DIR);
  if (files.created) log?.warn({ keyFile: files.keyFile, certificateFile: files.certificateFile }, 'generated a local software signing key with a self-signed certificate; use an HSM (ECOC_SIGNER=pkcs11) in production');
  return openSoftwareSigner(files);
}
