import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import * as der from './der.ts';
import { certificateToPem } from './certificate.ts';

export interface CertificateSubject {
  commonName: string;
  organization?: string;
  /** ISO 3166 two-letter code. */
  country?: string;
}

export interface SelfSignedCertificateOptions {
  publicKey: KeyObject;
  subject: CertificateSubject;
  notBefore: Date;
  notAfter: Date;
  /** RSASSA-PKCS1-v1_5 SHA-256 over the given bytes, by whatever holds the private key. */
  signRsaSha256: (data: Buffer) => Promise<Buffer>;
}

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
};

function name(subject: CertificateSubject): der.Der {
  const rdn = (oid: string, value: der.Der) => der.set(der.sequence(der.objectIdentifier(oid), value));
  return der.sequence(
    ...(subject.country ? [rdn(OID.country, der.printableString(subject.country))] : []),
    ...(subject.organization ? [rdn(OID.organization, der.utf8String(subject.organization))] : []),
    rdn(OID.commonName, der.utf8String(subject.commonName)),
  );
}

function extension(oid: string, critical: boolean, value: der.Der): der.Der {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/**
 * A self-signed X.509 v3 certificate for a signing-only key (keyUsage digitalSignature +
 * nonRepudiation, not a CA), signed through `signRsaSha256` so the private key may stay in a token.
 */
export async function createSelfSignedCertificate(options: SelfSignedCertificateOptions): Promise<string> {
  const algorithm = der.sequence(der.objectIdentifier(OID.sha256WithRSAEncryption), der.nullValue());
  const spki = options.publicKey.export({ type: 'spki', format: 'der' });
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, which for RSA is the PKCS#1 key.
  const keyIdentifier = createHash('sha1').update(options.publicKey.export({ type: 'pkcs1', format: 'der' })).digest();
  const subjectName = name(options.subject);
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(positiveSerial()),
    algorithm,
    subjectName,
    der.sequence(der.time(options.notBefore), der.time(options.notAfter)),
    subjectName,
    spki,
    der.explicit(
      3,
      der.sequence(
        extension(OID.basicConstraints, true, der.sequence()),
        // digitalSignature (bit 0) and nonRepudiation/contentCommitment (bit 1): a seal, nothing else.
        extension(OID.keyUsage, true, der.bitString(Buffer.from([0xc0]), 6)),
        extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier)),
      ),
    ),
  );
  const signature = await options.signRsaSha256(tbs);
  return certificateToPem(der.sequence(tbs, algorithm, der.bitString(signature)));
}

/** 16 random octets, top bit clear so the INTEGER stays positive and at most 20 octets. */
function positiveSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}
