import { createHash, type X509Certificate } from 'node:crypto';
import { IVI_SIGNATURE_PROFILE, XADES_NAMESPACE, XMLDSIG_NAMESPACE } from './profile.ts';

export interface QualifyingPropertiesInput {
  /** Id of the ds:Signature the properties qualify. */
  signatureId: string;
  /** Id of xades:SignedProperties, referenced from SignedInfo with the SignedProperties Type. */
  signedPropertiesId: string;
  signingTime: Date;
  certificate: X509Certificate;
}

/**
 * XAdES-B-B (ETSI EN 319 132-1) signed properties for a ds:Object: SigningTime and
 * SigningCertificateV2 with the SHA-256 digest of the signing certificate. IssuerSerialV2 is left
 * out (optional; the digest already binds the certificate).
 */
export function qualifyingProperties(input: QualifyingPropertiesInput): string {
  const certificateDigest = createHash('sha256').update(input.certificate.raw).digest('base64');
  const signingTime = `${input.signingTime.toISOString().slice(0, 19)}Z`;
  return (
    `<xades:QualifyingProperties xmlns:xades="${XADES_NAMESPACE}" xmlns:ds="${XMLDSIG_NAMESPACE}" Target="#${input.signatureId}">` +
    `<xades:SignedProperties Id="${input.signedPropertiesId}">` +
    '<xades:SignedSignatureProperties>' +
    `<xades:SigningTime>${signingTime}</xades:SigningTime>` +
    '<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>' +
    `<ds:DigestMethod Algorithm="${IVI_SIGNATURE_PROFILE.digestMethod}"/>` +
    `<ds:DigestValue>${certificateDigest}</ds:DigestValue>` +
    '</xades:CertDigest></xades:Cert></xades:SigningCertificateV2>' +
    '</xades:SignedSignatureProperties>' +
    '</xades:SignedProperties>' +
    '</xades:QualifyingProperties>'
  );
}
