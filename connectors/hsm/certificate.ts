import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { SignerConfigurationError } from './errors.ts';

/** Parses one PEM certificate; `source` names where it came from for the error message. */
export function parseCertificate(pem: string, source: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new SignerConfigurationError('certificate_invalid', `The signing certificate from ${source} is not a readable X.509 certificate: ${(error as Error).message}`, { cause: error });
  }
}

export function certificateToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** SHA-256 over the certificate's DER encoding, lowercase hex. */
export function certificateFingerprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('hex');
}

export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

/** A key and a certificate from different pairs would produce signatures nobody can verify. */
export function assertCertificateMatchesKey(certificate: X509Certificate, publicKey: KeyObject, keyLocation: string): void {
  if (!samePublicKey(certificate.publicKey, publicKey)) {
    throw new SignerConfigurationError(
      'certificate_key_mismatch',
      `The signing certificate (subject "${certificate.subject.replace(/\n/g, ', ')}", serial ${certificate.serialNumber}) does not belong to the key at ${keyLocation}.`,
    );
  }
}
