/**
 * Reads the official IVI 2.0 XSD and writes the committed descriptor and zod model in
 * `schemas/ivi/generated/`. Run `npx tsx schemas/ivi/tools/generate.ts` after replacing the XSD;
 * `--check` exits 1 when the committed files are stale. It refuses XSD constructs it does not
 * model (attributes, choices, nested anonymous types, …) instead of silently dropping them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XmlDocument, XmlElement } from 'libxml2-wasm';
import type { IviComplexType, IviDescriptor, IviElement, IviSimpleType, IviValueKind } from '../descriptor-types.ts';

const XS = 'http://www.w3.org/2001/XMLSchema';
/** The one `ref` in IVI: the root's mandatory enveloped signature. */
const SIGNATURE_REF = 'sig:Signature';
const BASE_KINDS: Record<string, IviValueKind> = {
  'xs:string': 'string',
  'xs:short': 'integer',
  'xs:int': 'integer',
  'xs:decimal': 'decimal',
  'xs:date': 'date',
  'xs:dateTime': 'dateTime',
};

export const XSD_PATH = fileURLToPath(new URL('../../xsd/IVI_2.0.xsd', import.meta.url));
export const DESCRIPTOR_PATH = fileURLToPath(new URL('../generated/descriptor.ts', import.meta.url));
export const MODEL_PATH = fileURLToPath(new URL('../generated/model.ts', import.meta.url));

class UnsupportedXsd extends Error {
  override name = 'UnsupportedXsd';
}

function xsChildren(element: XmlElement): XmlElement[] {
  const children: XmlElement[] = [];
  for (let node = element.firstChild; node; node = node.next) {
    if (node instanceof XmlElement) {
      if (node.namespaceUri !== XS) throw new UnsupportedXsd(`line ${node.line}: element ${node.name} outside the XSD namespace`);
      if (node.name !== 'annotation') children.push(node);
    }
  }
  return children;
}

function attribute(element: XmlElement, name: string): string | undefined {
  return element.attr(name)?.value;
}

function required(element: XmlElement, name: string): string {
  const value = attribute(element, name);
  if (value === undefined) throw new UnsupportedXsd(`line ${element.line}: <xs:${element.name}> without ${name}`);
  return value;
}

function parseSimpleType(element: XmlElement): IviSimpleType {
  const [restriction, ...rest] = xsChildren(element);
  if (!restriction || restriction.name !== 'restriction' || rest.length > 0) {
    throw new UnsupportedXsd(`line ${element.line}: simple type must be a single xs:restriction`);
  }
  const base = required(restriction, 'base');
  const kind = BASE_KINDS[base];
  if (!kind) throw new UnsupportedXsd(`line ${restriction.line}: unsupported base type ${base}`);
  const type: IviSimpleType = { kind };
  const enumeration: string[] = [];
  for (const facet of xsChildren(restriction)) {
    const value = required(facet, 'value');
    switch (facet.name) {
      case 'enumeration':
        enumeration.push(value);
        break;
      case 'pattern':
        type.pattern = value;
        break;
      case 'minLength':
      case 'maxLength':
      case 'minInclusive':
      case 'maxInclusive':
      case 'totalDigits':
      case 'fractionDigits':
        type[facet.name] = Number(value);
        break;
      default:
        throw new UnsupportedXsd(`line ${facet.line}: unsupported facet xs:${facet.name}`);
    }
  }
  if (enumeration.length > 0) {
    const tooLong = enumeration.find((value) => type.maxLength !== undefined && value.length > type.maxLength);
    if (tooLong !== undefined) throw new UnsupportedXsd(`line ${element.line}: enumeration value ${tooLong} exceeds maxLength`);
    type.enumeration = enumeration;
  }
  return type;
}

function parseElement(element: XmlElement): IviElement {
  if (element.name !== 'element') throw new UnsupportedXsd(`line ${element.line}: unsupported particle xs:${element.name}`);
  if (xsChildren(element).length > 0) throw new UnsupportedXsd(`line ${element.line}: anonymous types are not supported`);
  const max = attribute(element, 'maxOccurs') ?? '1';
  const ref = attribute(element, 'ref');
  return {
    name: ref ?? required(element, 'name'),
    type: ref ?? required(element, 'type'),
    minOccurs: Number(attribute(element, 'minOccurs') ?? '1'),
    maxOccurs: max === 'unbounded' ? null : Number(max),
  };
}

function parseComplexType(element: XmlElement): IviComplexType {
  const [compositor, ...rest] = xsChildren(element);
  if (!compositor || rest.length > 0 || (compositor.name !== 'all' && compositor.name !== 'sequence')) {
    throw new UnsupportedXsd(`line ${element.line}: complex type must hold exactly one xs:all or xs:sequence`);
  }
  const elements = xsChildren(compositor).map(parseElement);
  if (compositor.name === 'sequence' && elements.length !== 1) {
    throw new UnsupportedXsd(`line ${compositor.line}: sequences are expected to hold one repeated group`);
  }
  return { compositor: compositor.name, elements };
}

export function parseIviXsd(xsdText: string): IviDescriptor {
  const doc = XmlDocument.fromString(xsdText);
  try {
    return describe(doc.root);
  } finally {
    doc.dispose();
  }
}

function describe(schema: XmlElement): IviDescriptor {
  const namespace = required(schema, 'targetNamespace');
  const signatureNamespace = schema.namespaces['sig'];
  if (!signatureNamespace) throw new UnsupportedXsd('the schema does not bind the sig prefix to XMLDSig');
  const complexTypes: Record<string, IviComplexType> = {};
  const simpleTypes: Record<string, IviSimpleType> = {};
  let rootElement: { name: string; type: string } | undefined;
  for (const child of xsChildren(schema)) {
    if (child.name === 'import') continue;
    if (child.name === 'element') rootElement = { name: required(child, 'name'), type: required(child, 'type') };
    else if (child.name === 'complexType') complexTypes[required(child, 'name')] = parseComplexType(child);
    else if (child.name === 'simpleType') simpleTypes[required(child, 'name')] = parseSimpleType(child);
    else throw new UnsupportedXsd(`line ${child.line}: unsupported top-level xs:${child.name}`);
  }
  if (!rootElement) throw new UnsupportedXsd('no global element');
  const rootType = complexTypes[rootElement.type];
  if (!rootType) throw new UnsupportedXsd(`root type ${rootElement.type} is not declared`);
  delete complexTypes[rootElement.type];
  if (!rootType.elements.some((element) => element.name === SIGNATURE_REF && element.minOccurs === 1)) {
    throw new UnsupportedXsd(`root type ${rootElement.type} does not require ${SIGNATURE_REF}`);
  }
  return {
    namespace,
    signatureNamespace,
    rootElement: rootElement.name,
    rootChildren: rootType.elements.filter((element) => element.name !== SIGNATURE_REF),
    ...reachable(rootType, complexTypes, simpleTypes),
  };
}

/** Keeps the types reachable from the root, ordered so every type follows the types it uses. */
function reachable(
  rootType: IviComplexType,
  complexTypes: Record<string, IviComplexType>,
  simpleTypes: Record<string, IviSimpleType>,
): Pick<IviDescriptor, 'complexTypes' | 'simpleTypes'> {
  const orderedComplex: Record<string, IviComplexType> = {};
  const usedSimple = new Set<string>();
  const visit = (type: IviComplexType, path: string[]) => {
    for (const element of type.elements) {
      if (element.name === SIGNATURE_REF) continue;
      const nested = complexTypes[element.type];
      if (nested) {
        if (path.includes(element.type)) throw new UnsupportedXsd(`recursive type ${element.type}`);
        if (!(element.type in orderedComplex)) {
          visit(nested, [...path, element.type]);
          orderedComplex[element.type] = nested;
        }
      } else if (simpleTypes[element.type]) usedSimple.add(element.type);
      else throw new UnsupportedXsd(`element ${element.name} has undeclared type ${element.type}`);
    }
  };
  // The root's ref to ds:Signature is the one ref in IVI; anything else is unexpected.
  for (const element of rootType.elements) {
    if (element.name === SIGNATURE_REF) continue;
    if (!complexTypes[element.type]) throw new UnsupportedXsd(`root child ${element.name} is not a complex type`);
  }
  visit(rootType, []);
  const orderedSimple = Object.fromEntries([...usedSimple].sort().map((name) => [name, simpleTypes[name] as IviSimpleType]));
  return { complexTypes: orderedComplex, simpleTypes: orderedSimple };
}

const HEADER = '// Generated by schemas/ivi/tools/generate.ts from schemas/xsd/IVI_2.0.xsd. Do not edit.\n';

export function renderDescriptor(descriptor: IviDescriptor): string {
  const json = JSON.stringify;
  const elements = (list: readonly IviElement[], indent: string) =>
    `[\n${list.map((element) => `${indent}  ${json(element)},`).join('\n')}\n${indent}]`;
  return [
    HEADER,
    "import type { IviDescriptor } from '../descriptor-types.ts';",
    '',
    'export const iviDescriptor: IviDescriptor = {',
    `  namespace: ${json(descriptor.namespace)},`,
    `  signatureNamespace: ${json(descriptor.signatureNamespace)},`,
    `  rootElement: ${json(descriptor.rootElement)},`,
    `  rootChildren: ${elements(descriptor.rootChildren, '  ')},`,
    '  complexTypes: {',
    ...Object.entries(descriptor.complexTypes).map(
      ([name, type]) => `    ${name}: { compositor: ${json(type.compositor)}, elements: ${elements(type.elements, '    ')} },`,
    ),
    '  },',
    '  simpleTypes: {',
    ...Object.entries(descriptor.simpleTypes).map(([name, type]) => `    ${name}: ${json(type)},`),
    '  },',
    '};',
    '',
  ].join('\n');
}

function simpleSchemaCode(type: IviSimpleType): string {
  const { kind, enumeration, ...facets } = type;
  if (enumeration) return `z.enum(${JSON.stringify(enumeration)})`;
  switch (kind) {
    case 'string':
      return `xsString(${JSON.stringify(facets)})`;
    case 'integer':
      return `xsInteger(${JSON.stringify(facets)})`;
    case 'decimal':
      return `xsDecimal(${JSON.stringify(facets)})`;
    case 'date':
      return 'xsDate()';
    case 'dateTime':
      return 'xsDateTime()';
  }
}

export function renderModel(descriptor: IviDescriptor): string {
  const lines = [
    HEADER,
    "import { z } from 'zod';",
    "import { xsDate, xsDateTime, xsDecimal, xsInteger, xsString } from '../facets.ts';",
    '',
    '/** One zod schema per XSD simple type, with its facets. */',
    'export const iviSimpleTypeSchemas = {',
    ...Object.entries(descriptor.simpleTypes).map(([name, type]) => `  ${name}: ${simpleSchemaCode(type)},`),
    '};',
    '',
  ];
  const valueTypes = new Set<string>();
  const collectValueTypes = (typeName: string) => {
    const type = descriptor.complexTypes[typeName];
    if (!type || valueTypes.has(typeName)) return;
    valueTypes.add(typeName);
    for (const element of type.elements) collectValueTypes(element.type);
  };
  collectValueTypes('CocDataGroup');

  const elementCode = (element: IviElement, partial: boolean): string => {
    const isComplex = element.type in descriptor.complexTypes;
    let code = isComplex ? `${element.type}${partial ? 'Values' : ''}Schema` : `iviSimpleTypeSchemas.${element.type}`;
    if (element.maxOccurs !== 1) {
      code = `z.array(${code})`;
      if (!partial && element.minOccurs > 0) code += `.min(${element.minOccurs})`;
      if (element.maxOccurs !== null) code += `.max(${element.maxOccurs})`;
      // A table element is present even when it holds no group (`<FinalDriveTable/>`).
      return partial ? `${code}.optional()` : code;
    }
    return partial || element.minOccurs === 0 ? `${code}.optional()` : code;
  };
  for (const [name, type] of Object.entries(descriptor.complexTypes)) {
    const render = (partial: boolean) => [
      `const ${name}${partial ? 'Values' : ''}Schema = z.strictObject({`,
      ...type.elements.map((element) => `  ${element.name}: ${elementCode(element, partial)},`),
      '});',
    ];
    lines.push(...render(false));
    if (valueTypes.has(name)) lines.push(...render(true));
  }
  lines.push(
    '',
    'export { HeaderSchema as headerSchema, CocDataGroupSchema as cocDataGroupSchema, CocDataGroupValuesSchema as cocDataGroupValuesSchema };',
    '',
  );
  return lines.join('\n');
}

function main(): void {
  const descriptor = parseIviXsd(readFileSync(XSD_PATH, 'utf8'));
  const outputs = [
    [DESCRIPTOR_PATH, renderDescriptor(descriptor)],
    [MODEL_PATH, renderModel(descriptor)],
  ] as const;
  if (process.argv.includes('--check')) {
    const stale = outputs.filter(([path, text]) => readFileSync(path, 'utf8') !== text).map(([path]) => path);
    if (stale.length > 0) {
      console.error(`stale generated IVI sources (run npx tsx schemas/ivi/tools/generate.ts): ${stale.join(', ')}`);
      process.exit(1);
    }
    return;
  }
  for (const [path, text] of outputs) writeFileSync(path, text);
  console.log(
    `wrote ${Object.keys(descriptor.complexTypes).length} complex and ${Object.keys(descriptor.simpleTypes).length} simple types`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
