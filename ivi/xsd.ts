import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XmlBufferInputProvider, XmlDocument, xmlRegisterInputProvider, XmlValidateError, XsdValidator } from 'libxml2-wasm';
import { iviDescriptor } from '../schemas/ivi/index.ts';
import { parseUntrustedXmlDocument, UnsafeXmlError } from './safe-xml.ts';
import type { SafeXmlOptions } from './safe-xml.ts';

/**
 * XSD validation of IVI messages with the official schema (libxml2-wasm). The schema's
 * `xs:import` of XMLDSig is served from memory under a private URL scheme, so no file-system
 * provider is registered and untrusted documents cannot make libxml2 read local files.
 */

export interface IviSchemaError {
  line?: number;
  message: string;
}

export interface IviSchemaValidation {
  valid: boolean;
  errors: IviSchemaError[];
}

const XSD_DIR = new URL('../schemas/xsd/', import.meta.url);
const BASE_URL = 'ecoc-xsd:/ivi2/';
const SIGNATURE_REF = '<xs:element ref="sig:Signature"/>';

let validators: { signed: XsdValidator; unsigned: XsdValidator } | undefined;

function loadValidators(): { signed: XsdValidator; unsigned: XsdValidator } {
  if (validators) return validators;
  const read = (name: string) => readFileSync(fileURLToPath(new URL(name, XSD_DIR)));
  xmlRegisterInputProvider(new XmlBufferInputProvider({ [`${BASE_URL}xmldsig-core-schema.xsd`]: read('xmldsig-core-schema.xsd') }));
  const official = read('IVI_2.0.xsd').toString('utf8');
  // The one deliberate deviation: the signature becomes optional (see ivi/README.md).
  if (official.split(SIGNATURE_REF).length !== 2) {
    throw new Error(`IVI_2.0.xsd no longer declares exactly one ${SIGNATURE_REF}; revisit the unsigned-validation schema`);
  }
  const unsignedText = official.replace(SIGNATURE_REF, '<xs:element ref="sig:Signature" minOccurs="0"/>');
  const compile = (text: string, name: string) => {
    const doc = XmlDocument.fromString(text, { url: `${BASE_URL}${name}` });
    try {
      return XsdValidator.fromDoc(doc);
    } finally {
      doc.dispose();
    }
  };
  validators = { signed: compile(official, 'IVI_2.0.xsd'), unsigned: compile(unsignedText, 'IVI_2.0-unsigned.xsd') };
  return validators;
}

const NAMESPACE_PREFIX = `{${iviDescriptor.namespace}}`;

function validateWith(validator: XsdValidator, xml: string | Uint8Array, options: SafeXmlOptions): IviSchemaValidation {
  let doc: XmlDocument;
  try {
    doc = parseUntrustedXmlDocument(xml, options);
  } catch (error) {
    if (error instanceof UnsafeXmlError) return { valid: false, errors: [{ line: error.line, message: error.message }] };
    throw error;
  }
  try {
    return validateParsed(validator, doc);
  } finally {
    doc.dispose();
  }
}

function validateParsed(validator: XsdValidator, doc: XmlDocument): IviSchemaValidation {
  try {
    validator.validate(doc);
    return { valid: true, errors: [] };
  } catch (error) {
    if (!(error instanceof XmlValidateError)) throw error;
    return {
      valid: false,
      errors: error.details.map((detail) => ({
        line: detail.line || undefined,
        message: detail.message.trim().split(NAMESPACE_PREFIX).join(''),
      })),
    };
  }
}

/** Validates against the official IVI 2.0 XSD as shipped: the ds:Signature is required. */
export function validateIviXml(xml: string | Uint8Array, options: SafeXmlOptions = {}): IviSchemaValidation {
  return validateWith(loadValidators().signed, xml, options);
}

/** `validateIviXml` on a document parsed already with `parseUntrustedXmlDocument` (the signing step parses once for verification and XSD). */
export function validateParsedIvi(doc: XmlDocument): IviSchemaValidation {
  return validateParsed(loadValidators().signed, doc);
}

/**
 * Validates a message before signing: the official XSD with only the root's ds:Signature made
 * optional. Everything else, including a signature if one is present, is checked as shipped.
 */
export function validateUnsignedIviXml(xml: string | Uint8Array, options: SafeXmlOptions = {}): IviSchemaValidation {
  return validateWith(loadValidators().unsigned, xml, options);
}
