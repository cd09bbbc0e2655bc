import { SignedXml } from 'xml-crypto';
import { DOMParser } from '@xmldom/xmldom';

/**
 * An independent verifier for tests: xml-crypto's own (JavaScript) c14n and RSA check, against
 * the given certificate, next to xmlsec1 and the project's libxml2-based verifyIvi.
 */
export function xmlCryptoVerify(signedXml: string, certificatePem: string): { ok: boolean; errors: string[] } {
  const document = new DOMParser().parseFromString(signedXml, 'application/xml');
  const signature = document.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0];
  if (!signature) return { ok: false, errors: ['no Signature'] };
  const verifier = new SignedXml({ publicCert: certificatePem, getCertFromKeyInfo: () => null });
  try {
    verifier.loadSignature(signature as unknown as Node);
    const ok = verifier.checkSignature(signedXml);
    return { ok, errors: verifier.getReferences().flatMap((reference) => (reference.validationError ? [reference.validationError.message] : [])) };
  } catch (error) {
    return { ok: false, errors: [(error as Error).message] };
  }
}
