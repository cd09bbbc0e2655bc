import { createHash } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { parseCertificate } from '../connectors/hsm/certificate.ts';
import { IviSignatureError } from './errors.ts';
import { IVI_SIGNATURE_PROFILE, XADES_NAMESPACE, XADES_SIGNED_PROPERTIES_TYPE, XMLDSIG_NAMESPACE } from './profile.ts';
import { childElements, parseXml } from './xml.ts';

export interface IviVerification {
  valid: boolean;
  /** Why the document does not verify; empty when valid. */
  problems: string[];
  /** True when the signature carries XAdES signed properties. */
  xades: boolean;
}

/**
 * Verifies an IVI signature against the given (configured) certificate, never against the one the
 * document embeds: the embedded certificate must be the same one. Also checks the IVI profile
 * (one enveloped signature over the whole document as the root's last child, exc-c14n, rsa-sha256,
 * SHA-256), so a signature that verifies but breaks the profile is still rejected.
 */
export function verifyIvi(signedXml: string, certificatePem: string): IviVerification {
  const certificate = parseCertificate(certificatePem, 'the configured signing certificate');
  let document: Document;
  try {
    document = parseXml(signedXml, 'The signed IVI message');
  } catch (error) {
    return { valid: false, problems: error instanceof IviSignatureError ? error.problems : [(error as Error).message], xades: false };
  }
  const root = document.documentElement!;
  const signatures = Array.from(document.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'Signature'));
  const problems: string[] = [];
  if (signatures.length !== 1) {
    return { valid: false, problems: [`expected exactly one ds:Signature, found ${signatures.length}`], xades: false };
  }
  const signature = signatures[0]!;
  if (signature.parentNode !== root || childElements(root).at(-1) !== signature) problems.push('ds:Signature is not the last child element of the root');

  const signedInfo = child(signature, XMLDSIG_NAMESPACE, 'SignedInfo');
  const algorithm = (parent: Element | undefined, name: string) => (parent ? child(parent, XMLDSIG_NAMESPACE, name)?.getAttribute('Algorithm') : undefined);
  if (algorithm(signedInfo, 'CanonicalizationMethod') !== IVI_SIGNATURE_PROFILE.canonicalization) problems.push('SignedInfo is not canonicalised with exclusive c14n');
  if (algorithm(signedInfo, 'SignatureMethod') !== IVI_SIGNATURE_PROFILE.signatureMethod) problems.push('SignatureMethod is not rsa-sha256');

  const references = signedInfo ? childElements(signedInfo).filter((element) => element.localName === 'Reference') : [];
  const documentReferences = references.filter((reference) => reference.getAttribute('URI') === '');
  const propertiesReferences = references.filter((reference) => reference.getAttribute('Type') === XADES_SIGNED_PROPERTIES_TYPE);
  if (documentReferences.length !== 1) problems.push(`expected one Reference with URI="" over the whole document, found ${documentReferences.length}`);
  if (references.length !== documentReferences.length + propertiesReferences.length) problems.push('SignedInfo has references other than the document and XAdES SignedProperties');
  for (const reference of references) {
    if (algorithm(reference, 'DigestMethod') !== IVI_SIGNATURE_PROFILE.digestMethod) problems.push(`Reference URI="${reference.getAttribute('URI')}" does not use SHA-256`);
  }
  const documentReference = documentReferences[0];
  if (documentReference) {
    const transforms = Array.from(child(documentReference, XMLDSIG_NAMESPACE, 'Transforms')?.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'Transform') ?? []).map((t) => t.getAttribute('Algorithm'));
    const enveloped = transforms[0] === IVI_SIGNATURE_PROFILE.envelopedTransform;
    const rest = transforms.slice(1);
    if (!enveloped || rest.some((t) => t !== IVI_SIGNATURE_PROFILE.canonicalization)) problems.push(`the document Reference must use the enveloped-signature transform (then optionally exc-c14n), found ${transforms.join(', ') || 'none'}`);
  }

  const embedded = signature.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'X509Certificate')[0]?.textContent?.replace(/\s+/g, '');
  if (!embedded) problems.push('KeyInfo/X509Data carries no X509Certificate');
  else if (!Buffer.from(embedded, 'base64').equals(certificate.raw)) problems.push('the certificate in KeyInfo is not the configured signing certificate');

  const xades = propertiesReferences.length > 0;
  if (xades) problems.push(...checkXades(signature, certificate.raw));

  const verifier = new SignedXml({ publicCert: certificatePem, getCertFromKeyInfo: () => null });
  try {
    verifier.loadSignature(signature);
    if (!verifier.checkSignature(signedXml)) {
      const failed = verifier.getReferences().flatMap((reference) => (reference.validationError ? [reference.validationError.message] : []));
      problems.push(...(failed.length > 0 ? failed.map((message) => `xml-crypto: ${message}`) : ['the signature does not verify']));
    }
  } catch (error) {
    problems.push(`xml-crypto: ${(error as Error).message}`);
  }
  return { valid: problems.length === 0, problems, xades };
}

function checkXades(signature: Element, certificateDer: Buffer): string[] {
  const digest = signature.getElementsByTagNameNS(XADES_NAMESPACE, 'CertDigest')[0];
  const value = digest?.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'DigestValue')[0]?.textContent?.trim();
  if (!value) return ['XAdES SigningCertificateV2 has no CertDigest'];
  const method = digest?.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'DigestMethod')[0]?.getAttribute('Algorithm');
  if (method !== IVI_SIGNATURE_PROFILE.digestMethod) return ['XAdES CertDigest is not SHA-256'];
  return value === createHash('sha256').update(certificateDer).digest('base64') ? [] : ['XAdES SigningCertificateV2 names another certificate'];
}

function child(parent: Element, namespace: string, localName: string): Element | undefined {
  return childElements(parent).find((element) => element.namespaceURI === namespace && element.localName === localName);
}
