import type { KeySigner } from '../connectors/hsm/signer.ts';
import { assertSigningCertificateUsable } from './certificate-monitor.ts';
import { IviSignatureError } from './errors.ts';
import { signPrepared, type SignedIvi, type SignIviOptions } from './sign-ivi.ts';
import { inlineSigningWork, type SigningWork } from './work.ts';

export interface SignAndCheckOptions extends SignIviOptions {
  /** Where the libxml2 work runs: the worker's signing pool (signing/pool.ts); defaults to this thread. */
  work?: SigningWork;
  /** Clock for the certificate validity check; defaults to `signingTime`, else now. */
  now?: Date;
}

/**
 * The signing step as an activity runs it: refuse a certificate outside its validity, sign, then
 * verify the output against the configured certificate and validate it against the official XSD
 * (one parse of the signed document for both). Only a document that passes both counts as signed;
 * otherwise an `IviSignatureError` lists why.
 */
export async function signAndCheck(unsignedXml: string, signer: KeySigner, options: SignAndCheckOptions = {}): Promise<SignedIvi> {
  const { work = inlineSigningWork, now, ...signOptions } = options;
  const certificatePem = signer.certificatePem;
  assertSigningCertificateUsable(certificatePem, now ?? signOptions.signingTime);
  const signed = await signPrepared(unsignedXml, await work.prepare({ unsignedXml, certificatePem, ...signOptions }), signer);
  const { verification, xsd } = await work.check({ signedXml: signed.signedXml, certificatePem });
  if (!verification.valid) {
    throw new IviSignatureError('signature_unverifiable', 'The signed IVI message does not verify against the configured signing certificate', verification.problems);
  }
  if (!xsd.valid) {
    throw new IviSignatureError(
      'xsd_invalid',
      'The signed IVI message is not valid against the IVI 2.0 XSD',
      xsd.errors.map((error) => (error.line !== undefined ? `line ${error.line}: ${error.message}` : error.message)),
    );
  }
  return signed;
}
