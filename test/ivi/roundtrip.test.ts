import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readIviDocument } from '../../ivi/reader.ts';
import { writeIvi } from '../../ivi/writer.ts';
import { validateIviXml, validateUnsignedIviXml } from '../../ivi/xsd.ts';
import { canonicalIvi } from './support/canonical.ts';

const FIXTURES = new URL('../fixtures/ivi2/', import.meta.url);
const specimens = readdirSync(FIXTURES).filter((name) => name.endsWith('.xml'));

describe('official IVI 2.0 specimens', () => {
  it('are all present (four shipped files)', () => {
    expect(specimens.sort()).toEqual(['L1e_moped.xml', 'M1-01_electric.xml', 'M1-05_hybrid_petrol.xml', 'N2-01_electric.xml']);
  });

  describe.each(specimens)('%s', (name) => {
    const original = readFileSync(new URL(name, FIXTURES));

    it('is valid against the official XSD as shipped', () => {
      expect(validateIviXml(original)).toEqual({ valid: true, errors: [] });
    });

    it('round-trips reader → model → writer with equal content', () => {
      const { message, signed } = readIviDocument(original);
      expect(signed).toBe(true);
      const written = writeIvi(message);
      expect(validateUnsignedIviXml(written)).toEqual({ valid: true, errors: [] });
      expect(canonicalIvi(written)).toEqual(canonicalIvi(original));
      // The model keeps no signature, so the generated document has none yet.
      expect(written).not.toContain('Signature>');
    });

    it('is compared strictly enough to notice one changed value', () => {
      const { message } = readIviDocument(original);
      const changed = writeIvi({ ...message, cocDataGroup: { ...message.cocDataGroup, Version: `${message.cocDataGroup.Version.slice(0, 30)}X` } });
      expect(canonicalIvi(changed)).not.toEqual(canonicalIvi(original));
    });

    it('writes compact XML that becomes valid as shipped once a signature is appended last', () => {
      const written = writeIvi(readIviDocument(original).message);
      expect(written).not.toMatch(/>\s+</);
      expect(written.startsWith('<?xml version="1.0" encoding="UTF-8"?><InitialVehicleInformation xmlns="http://eu.ereg.initialvehicleinformation.v2">')).toBe(true);
      const unsigned = validateIviXml(written);
      expect(unsigned.valid).toBe(false);
      expect(unsigned.errors.map((error) => error.message).join('\n')).toMatch(/Signature/);
      const signature = /<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/.exec(original.toString('utf8'));
      expect(signature).not.toBeNull();
      const signed = written.replace(/<\/InitialVehicleInformation>$/, `${signature?.[0]}</InitialVehicleInformation>`);
      expect(validateIviXml(signed)).toEqual({ valid: true, errors: [] });
    });
  });
});
