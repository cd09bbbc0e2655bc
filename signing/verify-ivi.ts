import { createHash, verify as verifySignature } from 'node:crypto';
import type { XmlDocument, XmlElement, XmlNode } from 'libxml2-wasm';
import { parseCertificate } from '../connectors/hsm/certificate.ts';
import { parseUntrustedXmlDocument } from '../ivi/safe-xml.ts';
import { canonicalDocument, canonicalElement, sha256Base64 } from './canonical.ts';
import { IVI_SIGNATURE_PROFILE, XADES_NAMESPACE, XADES_SIGNED_PROPERTIES_TYPE, XMLDSIG_NAMESPACE } from './profile.ts';

export interface IviVerification {
  valid: boolean;
  /** Why the document does not verify; empty when valid. */
  problems: string[];
  /** True when the signature carries XAdES signed properties. */
  xades: boolean;
}

const NS = { ds: XMLDSIG_NAMESPACE, xades: XADES_NAMESPACE };

function text(node: XmlNode | null): string | undefined {
  return node?.content.replace(/\s+/g, '') || undefined;
}

function algorithm(parent: XmlNode, xpath: string): string | undefined {
  return (parent.get(xpath, NS) as XmlElement | null)?.attr('Algorithm')?.value;
}

/**
 * Verifies an IVI signature against the given (configured) certificate, never against the one the
 * document embeds: the embedded certificate must be the same one. Also checks the IVI profile
 * (one enveloped signature over the whole document as the root's last child, exc-c14n, rsa-sha256,
 * SHA-256), so a signature that verifies but breaks the profile is still rejected. The digests are
 * recomputed from the parsed document (libxml2's exclusive c14n), the signature with Node's crypto.
 */
export function verifyIvi(signedXml: string, certificatePem: string): IviVerification {
  const certificate = parseCertificate(certificatePem, 'the configured signing certificate');
  let document: XmlDocument;
  try {
    document = parseUntrustedXmlDocument(signedXml, { source: 'the signed IVI message' });
  } catch (error) {
    return { valid: false, problems: [(error as Error).message], xades: false };
  }
  try {
    return check(document, certificate);
  } finally {
    document.dispose();
  }
}

/** `verifyIvi` on a document parsed already; it removes the Signature from `document` (the enveloped transform). */
export function verifyParsedIvi(document: XmlDocument, certificatePem: string): IviVerification {
  return check(document, parseCertificate(certificatePem, 'the configured signing certificate'));
}

function check(document: XmlDocument, certificate: ReturnType<typeof parseCertificate>): IviVerification {
  const signatures = document.find('//ds:Signature', NS) as XmlElement[];
  if (signatures.length !== 1) return { valid: false, problems: [`expected exactly one ds:Signature, found ${signatures.length}`], xades: false };
  const signature = signatures[0]!;
  const problems: string[] = [];
  const lastChild = document.get('/*/*[last()]') as XmlElement | null;
  if (!lastChild || lastChild.name !== 'Signature' || lastChild.namespaceUri !== XMLDSIG_NAMESPACE || document.find('/*/ds:Signature', NS).length !== 1) {
    problems.push('ds:Signature is not the last child element of the root');
  }

  const signedInfo = signature.get('ds:SignedInfo', NS) as XmlElement | null;
  if (!signedInfo) return { valid: false, problems: [...problems, 'ds:Signature has no SignedInfo'], xades: false };
  if (algorithm(signedInfo, 'ds:CanonicalizationMethod') !== IVI_SIGNATURE_PROFILE.canonicalization) problems.push('SignedInfo is not canonicalised with exclusive c14n');
  if (algorithm(signedInfo, 'ds:SignatureMethod') !== IVI_SIGNATURE_PROFILE.signatureMethod) problems.push('SignatureMethod is not rsa-sha256');

  const references = signedInfo.find('ds:Reference', NS) as XmlElement[];
  const documentReferences = references.filter((r) => r.attr('URI')?.value === '');
  const propertiesReferences = references.filter((r) => r.attr('Type')?.value === XADES_SIGNED_PROPERTIES_TYPE);
  if (documentReferences.length !== 1) problems.push(`expected one Reference with URI="" over the whole document, found ${documentReferences.length}`);
  if (references.length !== documentReferences.length + propertiesReferences.length) problems.push('SignedInfo has references other than the document and XAdES SignedProperties');
  for (const reference of references) {
    if (algorithm(reference, 'ds:DigestMethod') !== IVI_SIGNATURE_PROFILE.digestMethod) problems.push(`Reference URI="${reference.attr('URI')?.value ?? ''}" does not use SHA-256`);
  }
  const documentReference = documentReferences[0];
  if (documentReference) {
    const transforms = (documentReference.find('ds:Transforms/ds:Transform', NS) as XmlElement[]).map((t) => t.attr('Algorithm')?.value);
    if (transforms[0] !== IVI_SIGNATURE_PROFILE.envelopedTransform || transforms.slice(1).some((t) => t !== IVI_SIGNATURE_PROFILE.canonicalization)) {
      problems.push(`the document Reference must use the enveloped-signature transform (then optionally exc-c14n), found ${transforms.join(', ') || 'none'}`);
    }
  }

  const embedded = text(signature.get('ds:KeyInfo/ds:X509Data/ds:X509Certificate', NS));
  if (!embedded) problems.push('KeyInfo/X509Data carries no X509Certificate');
  else if (!Buffer.from(embedded, 'base64').equals(certificate.raw)) problems.push('the certificate in KeyInfo is not the configured signing certificate');

  const signatureValue = text(signature.get('ds:SignatureValue', NS));
  if (!signatureValue || !verifySignature('sha256', Buffer.from(canonicalElement(signedInfo), 'utf8'), certificate.publicKey, Buffer.from(signatureValue, 'base64'))) {
    problems.push('the SignatureValue does not verify over SignedInfo with the configured certificate');
  }

  const xades = propertiesReferences.length > 0;
  for (const reference of propertiesReferences) {
    const id = reference.attr('URI')?.value.replace(/^#/, '') ?? '';
    const properties = id && /^[\w.-]+$/.test(id) ? (signature.get(`.//xades:SignedProperties[@Id='${id}']`, NS) as XmlElement | null) : null;
    if (!properties) problems.push(`XAdES Reference URI="#${id}" points to no SignedProperties in the signature`);
    else if (sha256Base64(canonicalElement(properties)) !== text(reference.get('ds:DigestValue', NS))) problems.push(`the digest of SignedProperties "${id}" does not match`);
  }
  if (xades) problems.push(...checkXades(signature, certificate.raw));

  // The enveloped-signature transform: the document without the Signature, then exc-c14n.
  if (documentReference) {
    const supplied = text(documentReference.get('ds:DigestValue', NS));
    signature.remove();
    const calculated = sha256Base64(canonicalDocument(document));
    if (calculated !== supplied) problems.push(`the document digest does not match: calculated ${calculated}, the signature supplies ${supplied ?? 'none'} (the document was changed after signing)`);
  }
  return { valid: problems.length === 0, problems, xades };
}

function checkXades(signature: XmlElement, certificateDer: Buffer): string[] {
  const digest = signature.get('.//xades:CertDigest', NS);
  const value = text(digest?.get('ds:DigestValue', NS) ?? null);
  if (!digest || !value) return ['XAdES SigningCertificateV2 has no CertDigest'];
  if (algorithm(digest, 'ds:DigestMethod') !== IVI_SIGNATURE_PROFILE.digestMethod) return ['XAdES CertDigest is not SHA-256'];
  return value === createHash('sha256').update(certificateDer).digest('base64') ? [] : ['XAdES SigningCertificateV2 names another certificate'];
}
