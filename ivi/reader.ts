import { iviDescriptor, iviMessageSchema } from '../schemas/ivi/index.ts';
import type { IviMessage } from '../schemas/ivi/index.ts';
import { fieldPath } from './paths.ts';
import { parseUntrustedXml } from './safe-xml.ts';
import type { SafeXmlOptions, XmlNodeData } from './safe-xml.ts';

/**
 * Reads an IVI 2.0 message into the JSON model, driven by the descriptor. Unknown, repeated or
 * misplaced elements are errors with their line; the ds:Signature is not modelled, only noted.
 */

export class IviReadError extends Error {
  override name = 'IviReadError';
  constructor(readonly problems: { path: string; line?: number; message: string }[]) {
    super(
      `not a readable IVI 2.0 message:\n${problems.map((p) => `  ${p.path}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`).join('\n')}`,
    );
  }
}

export interface IviReadResult {
  message: IviMessage;
  /** Whether the document carries a ds:Signature (its content is not read or verified here). */
  signed: boolean;
}

type Json = Record<string, unknown>;
interface Problem {
  path: string;
  line?: number;
  message: string;
}

const WHITESPACE_COLLAPSED = /^\s+|\s+$/g;

function leafValue(typeName: string, node: XmlNodeData, path: string, problems: Problem[]): unknown {
  const kind = iviDescriptor.simpleTypes[typeName]?.kind ?? 'string';
  if (node.children.length > 0) problems.push({ path, line: node.line, message: 'expected text, found child elements' });
  // xs:string keeps whitespace; the other XSD types collapse it.
  if (kind === 'string') return node.text;
  const text = node.text.replace(WHITESPACE_COLLAPSED, '');
  if (kind === 'date' || kind === 'dateTime') return text;
  const number = kind === 'integer' ? (/^[+-]?\d+$/.test(text) ? Number(text) : NaN) : /^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(number)) problems.push({ path, line: node.line, message: `"${text}" is not an xs:${kind === 'integer' ? 'integer' : 'decimal'}` });
  return number;
}

function readComplex(typeName: string, node: XmlNodeData, path: string, problems: Problem[]): Json {
  const type = iviDescriptor.complexTypes[typeName];
  if (!type) throw new Error(`IVI descriptor has no complex type ${typeName}`);
  if (node.text.trim() !== '') problems.push({ path, line: node.line, message: 'unexpected text content' });
  const value: Json = {};
  for (const element of type.elements) if (element.maxOccurs !== 1) value[element.name] = [];
  for (const child of node.children) {
    const childPath = `${path}/${child.name}`;
    const element = type.elements.find((candidate) => candidate.name === child.name);
    if (!element || child.namespace !== iviDescriptor.namespace) {
      problems.push({ path: childPath, line: child.line, message: `element {${child.namespace}}${child.name} is not allowed in ${typeName}` });
      continue;
    }
    const complex = element.type in iviDescriptor.complexTypes;
    if (element.maxOccurs === 1) {
      if (element.name in value) {
        problems.push({ path: childPath, line: child.line, message: 'element occurs more than once' });
        continue;
      }
      value[element.name] = complex ? readComplex(element.type, child, childPath, problems) : leafValue(element.type, child, childPath, problems);
    } else {
      const list = value[element.name] as unknown[];
      const itemPath = `${childPath}[${list.length + 1}]`;
      list.push(complex ? readComplex(element.type, child, itemPath, problems) : leafValue(element.type, child, itemPath, problems));
    }
  }
  return value;
}

/** Parses (hardened, see safe-xml.ts) and maps an IVI 2.0 document; throws IviReadError or UnsafeXmlError. */
export function readIviDocument(xml: string | Uint8Array, options: SafeXmlOptions = {}): IviReadResult {
  const root = parseUntrustedXml(xml, options);
  const problems: Problem[] = [];
  if (root.name !== iviDescriptor.rootElement || root.namespace !== iviDescriptor.namespace) {
    throw new IviReadError([{ path: root.name, line: root.line, message: `root must be {${iviDescriptor.namespace}}${iviDescriptor.rootElement}` }]);
  }
  const parts: Json = {};
  let signed = false;
  for (const child of root.children) {
    const element = iviDescriptor.rootChildren.find((candidate) => candidate.name === child.name);
    if (child.name === 'Signature' && child.namespace === iviDescriptor.signatureNamespace && !signed) signed = true;
    else if (element && child.namespace === iviDescriptor.namespace && !(child.name in parts)) {
      parts[child.name] = readComplex(element.type, child, child.name, problems);
    } else problems.push({ path: child.name, line: child.line, message: `unexpected element {${child.namespace}}${child.name}` });
  }
  for (const element of iviDescriptor.rootChildren) {
    if (!(element.name in parts)) problems.push({ path: element.name, message: 'missing' });
  }
  if (problems.length > 0) throw new IviReadError(problems);
  const parsed = iviMessageSchema.safeParse({ header: parts.Header, cocDataGroup: parts.CocDataGroup });
  if (!parsed.success) {
    throw new IviReadError(parsed.error.issues.map((issue) => ({ path: fieldPath(issue.path), message: issue.message })));
  }
  return { message: parsed.data, signed };
}

/** The message's data; see `readIviDocument` for whether it was signed. */
export function readIvi(xml: string | Uint8Array, options: SafeXmlOptions = {}): IviMessage {
  return readIviDocument(xml, options).message;
}
