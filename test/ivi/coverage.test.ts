import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iviDescriptor, iviMessageSchema } from '../../schemas/ivi/index.ts';
import { parseIviXsd, renderDescriptor, renderModel, DESCRIPTOR_PATH, MODEL_PATH, XSD_PATH } from '../../schemas/ivi/tools/generate.ts';
import { readIvi } from '../../ivi/reader.ts';
import { writeIvi, IviModelError } from '../../ivi/writer.ts';
import { validateUnsignedIviXml } from '../../ivi/xsd.ts';
import { canonicalIvi } from './support/canonical.ts';
import { syntheticMessage } from './support/synthetic.ts';

describe('IVI model generated from the XSD', () => {
  it('is in sync with schemas/xsd/IVI_2.0.xsd (regenerate with schemas/ivi/tools/generate.ts)', () => {
    const descriptor = parseIviXsd(readFileSync(XSD_PATH, 'utf8'));
    expect(renderDescriptor(descriptor)).toBe(readFileSync(DESCRIPTOR_PATH, 'utf8'));
    expect(renderModel(descriptor)).toBe(readFileSync(MODEL_PATH, 'utf8'));
  });

  it('covers every complex and simple type the XSD declares (except the root)', () => {
    const xsd = readFileSync(XSD_PATH, 'utf8');
    const complex = [...xsd.matchAll(/<xs:complexType name="([^"]+)"/g)].map((match) => match[1]);
    expect(Object.keys(iviDescriptor.complexTypes).sort()).toEqual(complex.filter((name) => name !== 'InitialVehicleInformation').sort());
    const usedSimple = new Set([...xsd.matchAll(/<xs:element name="[^"]+"[^>]*type="([^"]+)"/g)].map((match) => match[1]).filter((name) => !complex.includes(name)));
    expect(Object.keys(iviDescriptor.simpleTypes).sort()).toEqual([...usedSimple].sort());
  });
});

describe('synthetic messages over the whole schema', () => {
  it.each([0, 1, 2, 3])('a message with every element and repeated group (variant %i) is XSD-valid and round-trips', (variant) => {
    const { message, typesUsed } = syntheticMessage({ full: true, variant });
    expect(typesUsed.size).toBe(Object.keys(iviDescriptor.complexTypes).length);
    expect(iviMessageSchema.parse(message)).toEqual(message);
    const xml = writeIvi(message);
    expect(validateUnsignedIviXml(xml)).toEqual({ valid: true, errors: [] });
    expect(readIvi(xml)).toEqual(message);
    expect(canonicalIvi(writeIvi(readIvi(xml)))).toEqual(canonicalIvi(xml));
  });

  it('a message with only the required elements is XSD-valid and round-trips', () => {
    const { message } = syntheticMessage({ full: false });
    const xml = writeIvi(message);
    expect(validateUnsignedIviXml(xml).valid).toBe(true);
    expect(readIvi(xml)).toEqual(message);
  });

  it('keeps text exactly, including characters that need escaping and line breaks', () => {
    const { message } = syntheticMessage({ full: false });
    message.cocDataGroup.RemarkTable = { RemarkGroup: [{ RemarkSubjectDescription: 'RMRKS', RemarkSubjectLanguage: 'en', Remark: '  a < b & c > d\n"quoted" ‘typographic’ €  ' }] };
    expect(readIvi(writeIvi(message)).cocDataGroup.RemarkTable).toEqual(message.cocDataGroup.RemarkTable);
  });

  it('rejects data outside a facet with the field path', () => {
    const { message } = syntheticMessage({ full: true });
    const broken = structuredClone(message);
    (broken.cocDataGroup.MassGroup as Record<string, unknown>).ActualMass = 1_000_000;
    expect(() => writeIvi(broken)).toThrow(IviModelError);
    expect(() => writeIvi(broken)).toThrow(/CocDataGroup\/MassGroup\/ActualMass/);
  });

  it('rejects unknown fields instead of dropping them', () => {
    const { message } = syntheticMessage({ full: false });
    const broken = { ...message, cocDataGroup: { ...message.cocDataGroup, Colour: '1' } };
    expect(() => writeIvi(broken)).toThrow(/Colour/);
  });
});
