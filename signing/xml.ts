import { DOMParser } from '@xmldom/xmldom';
import { IviSignatureError } from './errors.ts';

/** Parses XML, turning any parser error or warning into one error that names the problem and position. */
export function parseXml(xml: string, what: string): Document {
  const problems: string[] = [];
  const parser = new DOMParser({
    locator: {},
    errorHandler: {
      warning: (message: string) => problems.push(message),
      error: (message: string) => problems.push(message),
      fatalError: (message: string) => problems.push(message),
    },
  });
  const document = parser.parseFromString(xml, 'application/xml');
  if (problems.length > 0 || !document.documentElement) {
    throw new IviSignatureError('not_well_formed', `${what} is not well-formed XML`, problems.map((p) => p.trim()));
  }
  return document as unknown as Document;
}

/** Element children of `parent` (text, comments and whitespace skipped). */
export function childElements(parent: Element): Element[] {
  return Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1);
}
