import { createHash, randomUUID } from 'node:crypto';
import type { XmlDocument } from 'libxml2-wasm';
import { SignedXml } from 'xml-crypto';
import type { ErrorFirstCallback, SignatureAlgorithm } from 'xml-crypto';
import { certificateFingerprint, parseCertificate } from '../connectors/hsm/certificate.ts';
import type { KeySigner } from '../connectors/hsm/signer.ts';
import { parseUntrustedXmlDocument, UnsafeXmlError } from '../ivi/safe-xml.ts';
import { IviSignatureError } from './errors.ts';
import { IVI_SIGNATURE_PROFILE, XADES_SIGNED_PROPERTIES_TYPE, XMLDSIG_NAMESPACE } from './profile.ts';
import { qualifyingProperties } from './xades.ts';

export interface SignIviOptions {
  /** Adds XAdES-B-B qualifying properties (SigningTime, SigningCertificateV2). */
  xades?: boolean;
  /** SigningTime for XAdES; defaults to now. */
  signingTime?: Date;
}

export interface SignedIvi {
  /** The signed document, exactly the bytes to store and deliver (UTF-8); never re-indent it. */
  signedXml: string;
  /** Base64 SignatureValue. */
  signatureValue: string;
  /** SHA-256 of the signing certificate's DER, lowercase hex. */
  certificateFingerprint: string;
  /** SHA-256 of `signedXml` as UTF-8 bytes, lowercase hex. */
  documentHash: string;
}

/**
 * Signs an unsigned IVI message with the IVI profile: enveloped XMLDSig over the whole document
 * (Reference URI="", enveloped-signature + exc-c14n transforms, SHA-256 digest), exc-c14n
 * SignedInfo, rsa-sha256 computed by `signer` (the token), the certificate in KeyInfo/X509Data,
 * and the Signature appended as the last child of the root. Signing must be the last change.
 */
export async function signIvi(unsignedXml: string, signer: KeySigner, options: SignIviOptions = {}): Promise<SignedIvi> {
  assertSignable(unsignedXml);
  const certificate = parseCertificate(signer.certificatePem, 'the signer');
  const signatureId = `signature-${randomUUID()}`;
  const signedPropertiesId = `signed-properties-${randomUUID()}`;

  const signedXml = new SignedXml({
    // xml-crypto insists on a private key; the real one stays in the signer, reached through the algorithm below.
    privateKey: 'held-by-the-key-signer',
    publicCert: signer.certificatePem,
    signatureAlgorithm: IVI_SIGNATURE_PROFILE.signatureMethod,
    canonicalizationAlgorithm: IVI_SIGNATURE_PROFILE.canonicalization,
    ...(options.xades
      ? { objects: [{ content: qualifyingProperties({ signatureId, signedPropertiesId, signingTime: options.signingTime ?? new Date(), certificate }) }] }
      : {}),
  });
  const produced: { signatureValue?: string } = {};
  signedXml.SignatureAlgorithms = { [IVI_SIGNATURE_PROFILE.signatureMethod]: signerAlgorithm(signer, produced) };
  signedXml.addReference({
    xpath: '/*',
    isEmptyUri: true,
    transforms: [IVI_SIGNATURE_PROFILE.envelopedTransform, IVI_SIGNATURE_PROFILE.canonicalization],
    digestAlgorithm: IVI_SIGNATURE_PROFILE.digestMethod,
  });
  if (options.xades) {
    signedXml.addReference({
      xpath: `//*[@Id='${signedPropertiesId}']`,
      transforms: [IVI_SIGNATURE_PROFILE.canonicalization],
      digestAlgorithm: IVI_SIGNATURE_PROFILE.digestMethod,
      type: XADES_SIGNED_PROPERTIES_TYPE,
    });
  }

  await new Promise<void>((resolve, reject) => {
    try {
      signedXml.computeSignature(
        unsignedXml,
        { location: { reference: '/*', action: 'append' }, ...(options.xades ? { attrs: { Id: signatureId } } : {}) },
        (error) => (error ? reject(error) : resolve()),
      );
    } catch (error) {
      reject(error);
    }
  });
  const output = signedXml.getSignedXml();
  return {
    signedXml: output,
    signatureValue: produced.signatureValue ?? '',
    certificateFingerprint: certificateFingerprint(certificate),
    documentHash: createHash('sha256').update(output, 'utf8').digest('hex'),
  };
}

/**
 * xml-crypto's parser repairs broken markup silently, so the input is first checked with libxml2
 * (well-formed, no DOCTYPE, size cap) and refused if it already carries a signature.
 */
function assertSignable(unsignedXml: string): void {
  let document: XmlDocument;
  try {
    document = parseUntrustedXmlDocument(unsignedXml, { source: 'the unsigned IVI message' });
  } catch (error) {
    if (error instanceof UnsafeXmlError) throw new IviSignatureError('not_well_formed', error.message, [], { cause: error });
    throw error;
  }
  try {
    if (document.get('/*/ds:Signature', { ds: XMLDSIG_NAMESPACE })) {
      throw new IviSignatureError('already_signed', 'The IVI message already carries a ds:Signature; sign the unsigned document (signing is the last step and is never repeated on signed output).');
    }
  } finally {
    document.dispose();
  }
}

/** xml-crypto's per-instance signature-algorithm hook, answered asynchronously by the key signer. */
function signerAlgorithm(signer: KeySigner, produced: { signatureValue?: string }): new () => SignatureAlgorithm {
  return class SignerRsaSha256 implements SignatureAlgorithm {
    getSignature(signedInfo: string | NodeJS.ArrayBufferView, privateKey: unknown): string;
    getSignature(signedInfo: string | NodeJS.ArrayBufferView, privateKey: unknown, callback?: ErrorFirstCallback<string>): void;
    getSignature(signedInfo: string | NodeJS.ArrayBufferView, _privateKey: unknown, callback?: ErrorFirstCallback<string>): string | void {
      if (!callback) throw new Error('The key signer signs asynchronously; call computeSignature with a callback.');
      const data = typeof signedInfo === 'string' ? Buffer.from(signedInfo, 'utf8') : Buffer.from(signedInfo.buffer, signedInfo.byteOffset, signedInfo.byteLength);
      signer
        .signRsaSha256(data)
        .then((signature) => {
          produced.signatureValue = signature.toString('base64');
          callback(null, produced.signatureValue);
        })
        // Also reports a failure while xml-crypto finishes the document inside the callback.
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    }

    verifySignature(): boolean {
      throw new Error('Verify IVI signatures with verifyIvi against the configured certificate.');
    }

    getAlgorithmName(): string {
      return IVI_SIGNATURE_PROFILE.signatureMethod;
    }
  };
}
