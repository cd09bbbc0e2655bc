import { describe, expect, it } from 'vitest';
import { decimalText, xsDate, xsDateTime, xsDecimal } from '../../schemas/ivi/facets.ts';
import { iviSimpleTypeSchemas } from '../../schemas/ivi/index.ts';
import { validateUnsignedIviXml } from '../../ivi/xsd.ts';
import { serializeIvi, writeIvi } from '../../ivi/writer.ts';
import { syntheticMessage } from './support/synthetic.ts';

describe('XSD facets in the zod model', () => {
  it('accepts calendar dates only, as xs:date does', () => {
    const valid = ['2024-02-29', '2000-02-29', '2024-12-31Z', '2024-12-31+01:00'];
    const invalid = ['2023-02-29', '1900-02-29', '2024-13-01', '2024-04-31', '2024-4-1', '2024-01-01T00:00:00'];
    for (const date of valid) expect(xsDate().safeParse(date).success, date).toBe(true);
    for (const date of invalid) expect(xsDate().safeParse(date).success, date).toBe(false);
    expect(xsDateTime().safeParse('2024-02-01T13:35:10.500+02:00').success).toBe(true);
    expect(xsDateTime().safeParse('2024-02-01 13:35:10').success).toBe(false);
  });

  it('limits total and fraction digits of decimals', () => {
    const decimal52 = xsDecimal({ totalDigits: 5, fractionDigits: 2, minInclusive: 0, maxInclusive: 999.99 });
    expect(decimal52.safeParse(999.99).success).toBe(true);
    expect(decimal52.safeParse(1.234).success).toBe(false);
    expect(decimal52.safeParse(0.1 + 0.2).success).toBe(false);
    expect(decimal52.safeParse(1000).success).toBe(false);
    expect(decimalText(1e-6)).toBe('0.000001');
    expect(decimalText(1e-7)).toBe('0.0000001');
  });

  it('agrees with the XSD on a value just outside a facet', () => {
    expect(iviSimpleTypeSchemas.Text15.safeParse('1234567890123456').success).toBe(false);
    const { message } = syntheticMessage({ full: false });
    const tooLong = { ...message, cocDataGroup: { ...message.cocDataGroup, Type: '1234567890123456' } };
    expect(() => writeIvi(tooLong)).toThrow(/CocDataGroup\/Type/);
    const xsd = validateUnsignedIviXml(serializeIvi(tooLong));
    expect(xsd.valid).toBe(false);
    expect(xsd.errors[0]?.message).toMatch(/Type.*maxLength/);
    expect(validateUnsignedIviXml(serializeIvi(message)).valid).toBe(true);
  });
});
