import type { XmlDocument } from 'libxml2-wasm';
import { parseUntrustedXmlDocument, UnsafeXmlError } from '../ivi/safe-xml.ts';
import { validateParsedIvi, type IviSchemaValidation } from '../ivi/xsd.ts';
import { IviSignatureError } from './errors.ts';
import { prepareSignature, type PreparedSignature, type SignIviOptions } from './sign-ivi.ts';
import { verifyParsedIvi, type IviVerification } from './verify-ivi.ts';

/**
 * The CPU-bound libxml2 parts of the signing step (parse, canonicalise, digest, verify, XSD),
 * plain data in and out so they can run on a thread of the signing pool (signing/pool.ts). The
 * key's RSA operation is not among them: the signer already runs it off the main thread (Node's
 * crypto on the libuv pool, C_SignAsync on the token), and a PKCS#11 session cannot change threads.
 */
export interface SigningWork {
  prepare(input: PrepareInput): Promise<PreparedSignature>;
  check(input: CheckInput): Promise<SignedIviCheck>;
}

export interface PrepareInput extends SignIviOptions {
  unsignedXml: string;
  certificatePem: string;
}

export interface CheckInput {
  signedXml: string;
  certificatePem: string;
}

export interface SignedIviCheck {
  verification: IviVerification;
  xsd: IviSchemaValidation;
}

/** Parses the signed document once: the XSD first, since verification removes the Signature (the enveloped transform). */
export function checkSignedIvi({ signedXml, certificatePem }: CheckInput): SignedIviCheck {
  let document: XmlDocument;
  try {
    document = parseUntrustedXmlDocument(signedXml, { source: 'the signed IVI message' });
  } catch (error) {
    if (!(error instanceof UnsafeXmlError)) throw error;
    return { verification: { valid: false, problems: [error.message], xades: false }, xsd: { valid: false, errors: [{ line: error.line, message: error.message }] } };
  }
  try {
    const xsd = validateParsedIvi(document);
    return { verification: verifyParsedIvi(document, certificatePem), xsd };
  } finally {
    document.dispose();
  }
}

export function prepareIviSignature({ unsignedXml, certificatePem, ...options }: PrepareInput): PreparedSignature {
  return prepareSignature(unsignedXml, certificatePem, options);
}

/** The work on the calling thread: what a single-threaded caller (tests, the CLI) uses. */
export const inlineSigningWork: SigningWork = {
  prepare: async (input) => prepareIviSignature(input),
  check: async (input) => checkSignedIvi(input),
};

/**
 * A task's answer as it crosses the thread boundary: postMessage keeps an error's message but not
 * its class or code, so the typed signing error travels as data and is rebuilt on the other side.
 */
export type TaskAnswer<T> = { value: T } | { signatureError: { code: string; summary: string; problems: string[] } };

/** What a pool thread runs (signing/pool-thread.js exports these). */
export const poolTasks = {
  prepare: (input: PrepareInput): TaskAnswer<PreparedSignature> => answer(() => prepareIviSignature(input)),
  check: (input: CheckInput): TaskAnswer<SignedIviCheck> => answer(() => checkSignedIvi(input)),
};

function answer<T>(task: () => T): TaskAnswer<T> {
  try {
    return { value: task() };
  } catch (error) {
    if (!(error instanceof IviSignatureError)) throw error;
    return { signatureError: { code: error.code, summary: error.summary, problems: error.problems } };
  }
}

export function unwrap<T>(answer: TaskAnswer<T>): T {
  if ('value' in answer) return answer.value;
  const { code, summary, problems } = answer.signatureError;
  throw new IviSignatureError(code, summary, problems);
}
