import type { KeySigner } from '../connectors/hsm/signer.ts';
import { assertSigningCertificateUsable } from './certificate-monitor.ts';
import { IviSignatureError } from './errors.ts';
import { signIvi, type SignedIvi, type SignIviOptions } from './sign-ivi.ts';
import { verifyIvi } from './verify-ivi.ts';

export interface XsdValidationResult {
  valid: boolean;
  errors: { line?: number; message: string }[];
}

/** Validates against the official IVI 2.0 XSD (`ivi/xsd.ts` `validateIviXml` fits). */
export type IviXsdValidator = (xml: string | Uint8Array) => XsdValidationResult | Promise<XsdValidationResult>;

export interface SignAndCheckOptions extends SignIviOptions {
  validateXsd: IviXsdValidator;
  /** Clock for the certificate validity check; defaults to `signingTime`, else now. */
  now?: Date;
}

/**
 * The signing step as an activity runs it: refuse a certificate outside its validity, sign, then
 * verify the output against the configured certificate and validate it against the official XSD.
 * Only a document that passes both counts as signed; otherwise an `IviSignatureError` lists why.
 */
export async function signAndCheck(unsignedXml: string, signer: KeySigner, options: SignAndCheckOptions): Promise<SignedIvi> {
  assertSigningCertificateUsable(signer.certificatePem, options.now ?? options.signingTime);
  const signed = await signIvi(unsignedXml, signer, options);
  const verification = verifyIvi(signed.signedXml, signer.certificatePem);
  if (!verification.valid) {
    throw new IviSignatureError('signature_unverifiable', 'The signed IVI message does not verify against the configured signing certificate', verification.problems);
  }
  const xsd = await options.validateXsd(signed.signedXml);
  if (!xsd.valid) {
    throw new IviSignatureError(
      'xsd_invalid',
      'The signed IVI message is not valid against the IVI 2.0 XSD',
      xsd.errors.map((error) => (error.line !== undefined ? `line ${error.line}: ${error.message}` : error.message)),
    );
  }
  return signed;
}
