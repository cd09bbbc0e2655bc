import { DEFAULT_MAX_XML_BYTES, parseUntrustedXml, UnsafeXmlError, type XmlNodeData } from '../../ivi/safe-xml.ts';

/**
 * Reading the two VECTO output files by namespace and version. Layouts differ between VECTO
 * versions, so each supported version is listed explicitly; anything else is refused with the
 * namespace named rather than half-read.
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
  const dataId = data.attributes.id;
  if (!dataId) throw new VectoFormatError(`${what}: Data (line ${data.line}) has no id attribute`);
  return { kind, version: vehicle.namespace, data, dataId, vehicle, digest: readDigest(child(root, 'Signature', what), `${what} Signature`) };
}

export function readDigest(container: XmlNodeData, what: string): VectoDigest {
  const reference = container.children.find((c) => c.name === 'Reference' && c.namespace === XMLDSIG);
  if (!reference) throw new VectoFormatError(`${what}: no ds:Reference (line ${container.line})`);
  const transforms = reference.children.find((c) => c.name === 'Transforms')?.children.filter((c) => c.name === 'Transform').map((t) => t.attributes.Algorithm ?? '') ?? [];
  const digestMethod = reference.children.find((c) => c.name === 'DigestMethod')?.attributes.Algorithm ?? '';
  const digestValue = reference.children.find((c) => c.name === 'DigestValue')?.text.trim() ?? '';
  if (!digestValue) throw new VectoFormatError(`${what}: empty DigestValue (line ${reference.line})`);
  return { uri: reference.attributes.URI ?? '', transforms, digestMethod, digestValue };
}

export function child(parent: XmlNodeData, name: string, what: string): XmlNodeData {
  const found = parent.children.find((c) => c.name === name);
  if (!found) throw new VectoFormatError(`${what}: ${parent.name} (line ${parent.line}) has no ${name} element`);
  return found;
}

export function optionalChild(parent: XmlNodeData, name: string): XmlNodeData | undefined {
  return parent.children.find((c) => c.name === name);
}

export function text(parent: XmlNodeData, name: string): string | undefined {
  const value = optionalChild(parent, name)?.text.trim();
  return value === '' ? undefined : value;
}
