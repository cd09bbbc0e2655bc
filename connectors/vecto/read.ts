import { DEFAULT_MAX_XML_BYTES, parseUntrustedXml, UnsafeXmlError, xmlText, type XmlNodeData } from '../../ivi/safe-xml.ts';
import { DEFAULT_TEXT_MAX, textProblem } from '../../schemas/text-rule.ts';

/**
 * Reading the two VECTO output files by namespace and version. Layouts differ between VECTO
 * versions, so each supported version is listed explicitly; anything else is refused with the
 * namespace named rather than half-read. Files are UTF-8 (ivi/safe-xml.ts refuses other
 * encodings), and every value read is under the text rule (`elementText`).
 */

export const VECTO_FILES = {
  cif: { root: 'VectoCustomerInformation', rootNamespace: 'urn:tugraz:ivt:VectoAPI:CustomerOutput', versions: ['urn:tugraz:ivt:VectoAPI:CustomerOutput:v1.0'] },
  mrf: { root: 'VectoOutput', rootNamespace: 'urn:tugraz:ivt:VectoAPI:DeclarationOutput', versions: ['urn:tugraz:ivt:VectoAPI:DeclarationOutput:v1.0'] },
} as const;

export type VectoFileKind = keyof typeof VECTO_FILES;
const FILE_NAMES: Record<VectoFileKind, string> = { cif: 'Customer Information File', mrf: 'Manufacturer Records File' };

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';

export class VectoVersionError extends Error {
  override name = 'VectoVersionError';
  constructor(
    message: string,
    readonly namespace: string,
  ) {
    super(message);
  }
}

export class VectoFormatError extends Error {
  override name = 'VectoFormatError';
}

/** A VECTO digest reference (`Reference` in the XMLDSig namespace, used without a signature). */
export interface VectoDigest {
  uri: string;
  transforms: string[];
  digestMethod: string;
  digestValue: string;
}

export interface VectoDocument {
  kind: VectoFileKind;
  version: string;
  /** The `Data` element with its `id`: what the file's own digest covers. */
  data: XmlNodeData;
  dataId: string;
  vehicle: XmlNodeData;
  /** The file's own digest (`<root>/Signature/Reference`). */
  digest: VectoDigest;
}

/** `maxBytes` is `ECOC_XML_MAX_BYTES`. */
export function readVectoFile(kind: VectoFileKind, input: string | Uint8Array, maxBytes = DEFAULT_MAX_XML_BYTES): VectoDocument {
  const spec = VECTO_FILES[kind];
  const what = `VECTO ${FILE_NAMES[kind]}`;
  let root: XmlNodeData;
  try {
    root = parseUntrustedXml(input, { maxBytes, source: what });
  } catch (error) {
    if (error instanceof UnsafeXmlError) throw new VectoFormatError(error.message);
    throw error;
  }
  if (root.name !== spec.root) throw new VectoFormatError(`${what}: expected root element ${spec.root}, found ${root.name} (namespace ${root.namespace || 'none'})`);
  if (root.namespace !== spec.rootNamespace) {
    throw new VectoVersionError(`${what}: unsupported namespace ${root.namespace} for ${root.name}; supported: ${spec.rootNamespace}`, root.namespace);
  }
  const data = child(root, 'Data', what);
  const vehicle = child(data, 'Vehicle', what);
  if (!(spec.versions as readonly string[]).includes(vehicle.namespace)) {
    throw new VectoVersionError(`${what}: unsupported VECTO output version ${vehicle.namespace}; supported: ${spec.versions.join(', ')}`, vehicle.namespace);
  }
  const dataId = attribute(data, 'id', 200);
  if (!dataId) throw new VectoFormatError(`${what}: Data (line ${data.line}) has no id attribute`);
  return { kind, version: vehicle.namespace, data, dataId, vehicle, digest: readDigest(child(root, 'Signature', what), `${what} Signature`) };
}

export function readDigest(container: XmlNodeData, what: string): VectoDigest {
  const reference = container.children.find((c) => c.name === 'Reference' && c.namespace === XMLDSIG);
  if (!reference) throw new VectoFormatError(`${what}: no ds:Reference (line ${container.line})`);
  const transforms = reference.children.find((c) => c.name === 'Transforms')?.children.filter((c) => c.name === 'Transform').map((t) => attribute(t, 'Algorithm') ?? '') ?? [];
  const digestMethodElement = reference.children.find((c) => c.name === 'DigestMethod');
  const digestMethod = (digestMethodElement && attribute(digestMethodElement, 'Algorithm')) ?? '';
  const digestValue = elementText(reference.children.find((c) => c.name === 'DigestValue'), 200) ?? '';
  if (!digestValue) throw new VectoFormatError(`${what}: empty DigestValue (line ${reference.line})`);
  return { uri: attribute(reference, 'URI') ?? '', transforms, digestMethod, digestValue };
}

export function child(parent: XmlNodeData, name: string, what: string): XmlNodeData {
  const found = parent.children.find((c) => c.name === name);
  if (!found) throw new VectoFormatError(`${what}: ${parent.name} (line ${parent.line}) has no ${name} element`);
  return found;
}

export function optionalChild(parent: XmlNodeData, name: string): XmlNodeData | undefined {
  return parent.children.find((c) => c.name === name);
}

/** A child element's trimmed text (undefined when missing or empty), under the text rule. */
export function text(parent: XmlNodeData, name: string): string | undefined {
  return elementText(optionalChild(parent, name));
}

/** An element's trimmed text under the text rule (schemas/text-rule.ts); too long is a VectoFormatError naming element and line. */
export function elementText(element: XmlNodeData | undefined, max = DEFAULT_TEXT_MAX): string | undefined {
  try {
    return xmlText(element, max, 'VECTO file');
  } catch (error) {
    if (error instanceof UnsafeXmlError) throw new VectoFormatError(error.message);
    throw error;
  }
}

/** An attribute's value under the text rule. */
export function attribute(element: XmlNodeData, name: string, max = DEFAULT_TEXT_MAX): string | undefined {
  const value = element.attributes[name];
  const problem = value === undefined ? undefined : textProblem(value, max);
  if (problem !== undefined) throw new VectoFormatError(`VECTO file: attribute ${name} of ${element.name} (line ${element.line}) ${problem}`);
  return value;
}
