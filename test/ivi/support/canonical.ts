import { iviDescriptor } from '../../../schemas/ivi/index.ts';
import { parseUntrustedXml } from '../../../ivi/safe-xml.ts';
import type { XmlNodeData } from '../../../ivi/safe-xml.ts';

/**
 * Content of an IVI document for comparison: the ds:Signature dropped, whitespace between
 * elements ignored, children of xs:all groups in a fixed order (xs:all is unordered, repeated
 * groups keep their order), numbers and dates compared by XSD value, not spelling.
 */
export type CanonicalNode = [name: string, content: string | CanonicalNode[]];

function canonicalValue(typeName: string, text: string): string {
  const kind = iviDescriptor.simpleTypes[typeName]?.kind;
  if (kind === 'integer' || kind === 'decimal') return String(Number(text.trim()));
  return kind === 'string' ? text : text.trim();
}

function canonicalComplex(typeName: string, node: XmlNodeData): CanonicalNode[] {
  const type = iviDescriptor.complexTypes[typeName];
  if (!type) throw new Error(`unknown complex type ${typeName}`);
  const children = node.children.map((child): CanonicalNode => {
    const element = type.elements.find((candidate) => candidate.name === child.name);
    if (!element) throw new Error(`unexpected ${child.name} in ${typeName}`);
    return element.type in iviDescriptor.complexTypes
      ? [child.name, canonicalComplex(element.type, child)]
      : [child.name, canonicalValue(element.type, child.text)];
  });
  // Array.prototype.sort is stable: same-named repeated groups keep document order.
  return children.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function canonicalIvi(xml: string | Uint8Array): CanonicalNode[] {
  const root = parseUntrustedXml(xml);
  return root.children
    .filter((child) => !(child.name === 'Signature' && child.namespace === iviDescriptor.signatureNamespace))
    .map((child): CanonicalNode => {
      if (child.namespace !== iviDescriptor.namespace) throw new Error(`foreign element ${child.name}`);
      const element = iviDescriptor.rootChildren.find((candidate) => candidate.name === child.name);
      if (!element) throw new Error(`unexpected root child ${child.name}`);
      return [child.name, canonicalComplex(element.type, child)];
    });
}
