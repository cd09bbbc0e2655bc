import { DEFAULT_MAX_XML_BYTES } from '../schemas/config/ivi.ts';
import { DEFAULT_TEXT_MAX, textProblem } from '../schemas/text-rule.ts';
import { utf8Problem } from '../platform/utf8.ts';
import { ParseOption, XmlCData, XmlDocument, XmlElement, XmlEntityReference, XmlParseError, XmlText } from 'libxml2-wasm';

/**
 * Hardened XML parsing for documents from outside (imported certificates, VECTO files, uploads).
 * Policy: no DOCTYPE at all (IVI and VECTO never need one), so no external entities, no external
 * DTD, no entity expansion; no network; input size capped before parsing. libxml2 additionally
 * refuses entity amplification and deep nesting on its own.
 *
 * UTF-8 only, for text and bytes alike: bytes must be valid UTF-8 (no UTF-16/32 byte order mark),
 * and a declaration naming another encoding is refused. Text (a JS string) is already decoded, so
 * libxml2 following a declared `ISO-8859-1` would decode it a second time and garble it silently
 * (`CITROËN` → `CITROÃ\u008bN`); text must also hold no NUL or unpaired surrogate (the text rule).
 */

export { DEFAULT_MAX_XML_BYTES };

export interface SafeXmlOptions {
  /** Upper bound of the input in bytes (UTF-8 for strings); config ECOC_XML_MAX_BYTES. */
  maxBytes?: number;
  /** Named in error messages, e.g. a file name. */
  source?: string;
}

export class UnsafeXmlError extends Error {
  override name = 'UnsafeXmlError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

// No NOENT (entity substitution), no DTDLOAD/DTDATTR/DTDVALID, no XInclude.
const PARSE_OPTIONS = ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_SYS_CATALOG;

function byteLength(input: string | Uint8Array): number {
  return typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
}

const XML_DECLARATION = /^\uFEFF?<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"']*)\1/;

/** Why the input is not UTF-8 XML as accepted here, or undefined. */
function encodingProblem(input: string | Uint8Array): string | undefined {
  if (typeof input !== 'string' && ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff))) {
    return 'the document is UTF-16 or UTF-32 (byte order mark); only UTF-8 is accepted';
  }
  // The declaration is ASCII in every encoding it may name that is not UTF-16/32.
  const head = typeof input === 'string' ? input.slice(0, 1024) : Buffer.from(input.subarray(0, 1024)).toString('latin1');
  const declared = XML_DECLARATION.exec(head)?.[2];
  if (declared !== undefined && declared.toLowerCase() !== 'utf-8') {
    return `the XML declaration names encoding "${declared}"; only UTF-8 is accepted (convert the document to UTF-8 and declare encoding="UTF-8" or no encoding)`;
  }
  if (typeof input === 'string') {
    const problem = textProblem(input, Number.MAX_SAFE_INTEGER);
    return problem === undefined ? undefined : `the XML text ${problem}`;
  }
  const problem = utf8Problem(input);
  if (problem !== undefined) return `the document ${problem}; only UTF-8 is accepted`;
  const nul = input.indexOf(0);
  if (nul !== -1) return `the document contains a NUL byte at offset ${nul} (UTF-16 or UTF-32 without byte order mark?); only UTF-8 is accepted`;
  return undefined;
}

/** The prolog, up to the root element, is where a DOCTYPE would sit. */
function prologHasDoctype(input: string | Uint8Array): boolean {
  const head = typeof input === 'string' ? input.slice(0, 64 * 1024) : Buffer.from(input.subarray(0, 64 * 1024)).toString('latin1');
  const root = head.search(/<[A-Za-z_]/);
  return /<!DOCTYPE/i.test(root === -1 ? head : head.slice(0, root));
}

/**
 * Parses untrusted XML into a libxml2 document; the caller must `dispose()` it. Prefer
 * `parseUntrustedXml` unless you need libxml2 itself (XSD validation).
 */
export function parseUntrustedXmlDocument(input: string | Uint8Array, options: SafeXmlOptions = {}): XmlDocument {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const where = options.source ? ` in ${options.source}` : '';
  const size = byteLength(input);
  if (size > maxBytes) throw new UnsafeXmlError(`XML rejected${where}: ${size} bytes exceeds the limit of ${maxBytes} bytes`);
  const encoding = encodingProblem(input);
  if (encoding !== undefined) throw new UnsafeXmlError(`XML rejected${where}: ${encoding}`);
  const doctypeRefused = `XML rejected${where}: DOCTYPE declarations are not allowed (no DTDs, external entities or entity expansion)`;
  if (prologHasDoctype(input)) throw new UnsafeXmlError(doctypeRefused);
  let doc: XmlDocument;
  try {
    doc = typeof input === 'string' ? XmlDocument.fromString(input, { option: PARSE_OPTIONS }) : XmlDocument.fromBuffer(input, { option: PARSE_OPTIONS });
  } catch (error) {
    if (error instanceof XmlParseError) {
      const first = error.details[0];
      const message = first ? first.message.trim() : error.message;
      throw new UnsafeXmlError(`XML is not well-formed${where}${first ? ` (line ${first.line})` : ''}: ${message}`, first?.line);
    }
    throw error;
  }
  // Backstop, should a document reach libxml2 in a form the prolog scan cannot read.
  if (doc.dtd !== null) {
    doc.dispose();
    throw new UnsafeXmlError(doctypeRefused);
  }
  return doc;
}

/** A parsed element as plain data, detached from libxml2. */
export interface XmlNodeData {
  /** Local name. */
  name: string;
  /** Namespace URI, '' when none. */
  namespace: string;
  /** Unqualified attributes by local name; namespaced ones in Clark notation `{uri}local`. */
  attributes: Record<string, string>;
  children: XmlNodeData[];
  /** Concatenated direct text and CDATA content (whitespace kept). */
  text: string;
  line: number;
}

function toData(element: XmlElement): XmlNodeData {
  const attributes: Record<string, string> = {};
  for (const attr of element.attrs) {
    attributes[attr.namespaceUri ? `{${attr.namespaceUri}}${attr.name}` : attr.name] = attr.value;
  }
  const children: XmlNodeData[] = [];
  let text = '';
  for (let node = element.firstChild; node; node = node.next) {
    if (node instanceof XmlElement) children.push(toData(node));
    else if (node instanceof XmlText || node instanceof XmlCData) text += node.content;
    else if (node instanceof XmlEntityReference) throw new UnsafeXmlError(`XML rejected: entity reference at line ${node.line}`, node.line);
  }
  return { name: element.name, namespace: element.namespaceUri, attributes, children, text, line: element.line };
}

/** Parses untrusted XML (see the policy above) and returns its root element as plain data. */
export function parseUntrustedXml(input: string | Uint8Array, options: SafeXmlOptions = {}): XmlNodeData {
  const doc = parseUntrustedXmlDocument(input, options);
  try {
    return toData(doc.root);
  } finally {
    doc.dispose();
  }
}

/**
 * The trimmed text of an element under the text rule (schemas/text-rule.ts): values read from
 * outside XML (VECTO files, NAP answers) are refused, naming the element and its line, when they
 * exceed their maximum. `undefined` for a missing or empty element.
 */
export function xmlText(element: XmlNodeData | undefined, max = DEFAULT_TEXT_MAX, what = 'XML'): string | undefined {
  if (element === undefined) return undefined;
  const value = element.text.trim();
  const problem = textProblem(value, max);
  if (problem !== undefined) throw new UnsafeXmlError(`${what}: ${element.name} (line ${element.line}) ${problem}`, element.line);
  return value === '' ? undefined : value;
}
