import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { parseUntrustedXml, UnsafeXmlError, type XmlNodeData } from '../../../ivi/safe-xml.ts';
import { validateIviXml } from '../../../ivi/xsd.ts';
import type { NapFault, SubmitRequest } from '../envelope.ts';

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface IviHeader {
  vin: string;
  iviReferenceId: string;
  iviVersionNumber: number;
}

const reject = (code: string, message: string): { fault: NapFault } => ({ fault: { party: 'sender', code, message } });

/**
 * What a NAP checks before accepting a message: safe, well-formed XML; valid against the official
 * XSD (signature included); an enveloped XMLDSig over the whole document that verifies with the
 * certificate in its KeyInfo; header values equal to those in the request.
 */
export function checkSubmittedIvi(request: SubmitRequest): { header: IviHeader } | { fault: NapFault } {
  let root: XmlNodeData;
  try {
    root = parseUntrustedXml(request.xml, { source: 'the IVI message' });
  } catch (error) {
    if (error instanceof UnsafeXmlError) return reject('SCHEMA_INVALID', error.message);
    throw error;
  }
  const signature = root.children.find((c) => c.name === 'Signature' && c.namespace === XMLDSIG);
  if (!signature) return reject('SIGNATURE_MISSING', 'the IVI message carries no ds:Signature');

  const schema = validateIviXml(request.xml);
  if (!schema.valid) {
    const first = schema.errors.slice(0, 5).map((e) => (e.line ? `line ${e.line}: ${e.message}` : e.message));
    return reject('SCHEMA_INVALID', `the IVI message does not validate against IVI 2.0 XSD: ${first.join('; ')}`);
  }

  const signatureProblem = verifyEnvelopedSignature(Buffer.from(request.xml).toString('utf8'));
  if (signatureProblem) return reject('SIGNATURE_INVALID', signatureProblem);

  const header = root.children.find((c) => c.name === 'Header');
  const coc = root.children.find((c) => c.name === 'CocDataGroup');
  const text = (parent: XmlNodeData | undefined, name: string) => parent?.children.find((c) => c.name === name)?.text.trim() ?? '';
  const found: IviHeader = {
    vin: text(coc, 'VehicleIdentificationNumber'),
    iviReferenceId: text(header, 'IviReferenceId'),
    iviVersionNumber: Number(text(header, 'IviVersionNumber')),
  };
  const mismatches = (['vin', 'iviReferenceId', 'iviVersionNumber'] as const).filter((key) => found[key] !== request[key]);
  if (mismatches.length > 0) {
    return reject('HEADER_MISMATCH', mismatches.map((key) => `${key}: request says ${request[key]}, message says ${found[key]}`).join('; '));
  }
  return { header: found };
}

/** Returns why the signature fails, or undefined when it verifies and covers the whole document. */
function verifyEnvelopedSignature(xml: string): string | undefined {
  // DOCTYPEs were refused by parseUntrustedXml above; xmldom only serves xml-crypto here.
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  if (!root) return 'no document element';
  const signatures = Array.from(root.childNodes).filter(
    (node) => node.nodeType === 1 && (node as Element).localName === 'Signature' && (node as Element).namespaceURI === XMLDSIG,
  );
  if (signatures.length !== 1) return `expected exactly one ds:Signature as a child of the root, found ${signatures.length}`;
  const verifier = new SignedXml({ getCertFromKeyInfo: SignedXml.getCertFromKeyInfo });
  try {
    verifier.loadSignature(signatures[0] as unknown as Node);
    const references = verifier.getReferences();
    if (references.length < 1 || !references.some((ref) => ref.uri === '' && ref.transforms.includes(ENVELOPED))) {
      return 'the signature does not cover the whole document (expected a Reference URI="" with the enveloped-signature transform)';
    }
    if (!verifier.checkSignature(xml)) return 'the XMLDSig signature does not verify';
  } catch (error) {
    return `the XMLDSig signature does not verify: ${(error as Error).message}`;
  }
  return undefined;
}
