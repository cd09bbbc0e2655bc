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
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
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

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, which for RSA is the PKCS#1 key. */
const keyIdentifier = (publicKey: KeyObject): Buffer => createHash('sha1').update(publicKey.export({ type: 'pkcs1', format: 'der' })).digest();

/** What a certificate may be used for; each profile is one set of X.509 extensions. */
export type CertificateProfile =
  /** A seal key: digitalSignature + nonRepudiation, not a CA. */
  | { kind: 'signing' }
  /** A CA that issues TLS certificates: keyCertSign + cRLSign. */
  | { kind: 'ca' }
  /** A TLS server (serverAuth) for these DNS names and IP addresses. */
  | { kind: 'tls-server'; dnsNames: string[]; ipAddresses: string[] }
  /** A TLS client (clientAuth), for mutual TLS. */
  | { kind: 'tls-client' };

export interface IssueCertificateOptions {
  publicKey: KeyObject;
  subject: CertificateSubject;
  profile: CertificateProfile;
  notBefore: Date;
  notAfter: Date;
  /** Who signs: the CA's name and public key; omitted, the certificate is self-signed. */
  issuer?: { subject: CertificateSubject; publicKey: KeyObject } | undefined;
  /** RSASSA-PKCS1-v1_5 SHA-256 over the given bytes, by whatever holds the issuer's private key. */
  signRsaSha256: (data: Buffer) => Promise<Buffer>;
}

function profileExtensions(profile: CertificateProfile): der.Der[] {
  const basicConstraints = (ca: boolean) => extension(OID.basicConstraints, true, ca ? der.sequence(der.boolean(true)) : der.sequence());
  const keyUsage = (bits: number, unusedBits: number) => extension(OID.keyUsage, true, der.bitString(Buffer.from([bits]), unusedBits));
  const extKeyUsage = (oid: string) => extension(OID.extKeyUsage, false, der.sequence(der.objectIdentifier(oid)));
  switch (profile.kind) {
    // digitalSignature (bit 0) and nonRepudiation/contentCommitment (bit 1): a seal, nothing else.
    case 'signing':
      return [basicConstraints(false), keyUsage(0xc0, 6)];
    // keyCertSign (bit 5) and cRLSign (bit 6).
    case 'ca':
      return [basicConstraints(true), keyUsage(0x06, 1)];
    // digitalSignature (bit 0) and keyEncipherment (bit 2), as TLS with RSA keys needs.
    case 'tls-server': {
      const names = [
        ...profile.dnsNames.map((dns) => der.tlv(0x82, Buffer.from(dns, 'ascii'))),
        ...profile.ipAddresses.map((ip) => der.tlv(0x87, Buffer.from(ip.split('.').map(Number)))),
      ];
      return [basicConstraints(false), keyUsage(0xa0, 5), extKeyUsage(OID.serverAuth), extension(OID.subjectAltName, false, der.sequence(...names))];
    }
    case 'tls-client':
      return [basicConstraints(false), keyUsage(0xa0, 5), extKeyUsage(OID.clientAuth)];
  }
}

/**
 * An X.509 v3 certificate (RSA, SHA-256) for one of the profiles above, signed through
 * `signRsaSha256` so the issuer's private key may stay in a token.
 */
export async function issueCertificate(options: IssueCertificateOptions): Promise<string> {
  const algorithm = der.sequence(der.objectIdentifier(OID.sha256WithRSAEncryption), der.nullValue());
  const spki = options.publicKey.export({ type: 'spki', format: 'der' });
  const issuer = options.issuer ?? { subject: options.subject, publicKey: options.publicKey };
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(positiveSerial()),
    algorithm,
    name(issuer.subject),
    der.sequence(der.time(options.notBefore), der.time(options.notAfter)),
    name(options.subject),
    spki,
    der.explicit(
      3,
      der.sequence(
        ...profileExtensions(options.profile),
        extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(options.publicKey))),
        ...(options.issuer ? [extension(OID.authorityKeyIdentifier, false, der.sequence(der.tlv(0x80, keyIdentifier(issuer.publicKey))))] : []),
      ),
    ),
  );
  const signature = await options.signRsaSha256(tbs);
  return certificateToPem(der.sequence(tbs, algorithm, der.bitString(signature)));
}

/**
 * A self-signed X.509 v3 certificate for a signing-only key (keyUsage digitalSignature +
 * nonRepudiation, not a CA), signed through `signRsaSha256` so the private key may stay in a token.
 */
export function createSelfSignedCertificate(options: SelfSignedCertificateOptions): Promise<string> {
  return issueCertificate({ ...options, profile: { kind: 'signing' } });
}

/** 16 random octets, top bit clear so the INTEGER stays positive and at most 20 octets. */
function positiveSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}
