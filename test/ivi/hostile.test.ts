import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readIvi, readIviDocument, IviReadError } from '../../ivi/reader.ts';
import { parseUntrustedXml, UnsafeXmlError, DEFAULT_MAX_XML_BYTES } from '../../ivi/safe-xml.ts';
import { validateIviXml } from '../../ivi/xsd.ts';
import { importVecto } from '../../connectors/vecto/import.ts';
import { VectoFormatError } from '../../connectors/vecto/read.ts';
import { buildReceiptResponse, NapEnvelopeError, parseResponse } from '../../connectors/nap/envelope.ts';

const secretDir = mkdtempSync(join(tmpdir(), 'ecoc-xxe-'));
const secretFile = join(secretDir, 'secret.txt');
const SECRET = 'TOP-SECRET-7f3a9c';
writeFileSync(secretFile, SECRET);
afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

const specimen = readFileSync(new URL('../fixtures/ivi2/M1-01_electric.xml', import.meta.url), 'utf8');
// A real IVI message with an entity in the make: expanding it would leak the file into the data.
const xxe = specimen
  .replace('<?xml version="1.0"?>', `<?xml version="1.0"?>\n<!DOCTYPE InitialVehicleInformation [<!ENTITY secret SYSTEM "${pathToFileURL(secretFile).href}">]>`)
  .replace(/<Make>[^<]*<\/Make>/, '<Make>&secret;</Make>');

const laughs = (() => {
  const entities = ['<!ENTITY lol0 "lol">'];
  for (let level = 1; level <= 9; level += 1) entities.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE lolz [${entities.join('')}]><lolz>&lol9;</lolz>`;
})();

describe('hostile XML', () => {
  it('refuses an external entity pointing at a local file, without reading it', () => {
    expect(() => readIvi(xxe)).toThrow(UnsafeXmlError);
    expect(() => readIvi(xxe)).toThrow(/DOCTYPE declarations are not allowed/);
    let message = '';
    try {
      readIvi(xxe);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain(SECRET);
    const validation = validateIviXml(xxe);
    expect(validation.valid).toBe(false);
    expect(validation.errors[0]?.message).toMatch(/DOCTYPE/);
  });

  it('refuses the same XXE in UTF-16, where the prolog scan cannot see it, before libxml2 reads it: only UTF-8 is accepted', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xxe.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')]);
    expect(() => parseUntrustedXml(utf16)).toThrow(/UTF-16 or UTF-32 \(byte order mark\); only UTF-8 is accepted/);
    // Without a byte order mark, its NUL bytes give it away.
    expect(() => parseUntrustedXml(utf16.subarray(2))).toThrow(/NUL byte at offset 1 .*only UTF-8 is accepted/);
  });

  it('refuses a billion-laughs entity bomb', () => {
    expect(() => parseUntrustedXml(laughs)).toThrow(UnsafeXmlError);
    expect(() => parseUntrustedXml(laughs)).toThrow(/DOCTYPE declarations are not allowed/);
    // Hidden from the prolog scan by UTF-16, the bomb still fails (UTF-8 only; libxml2 would also cap entity amplification).
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(laughs.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'), 'utf16le')]);
    expect(() => parseUntrustedXml(utf16)).toThrow(UnsafeXmlError);
  });

  it('refuses a 50 MB document before parsing it', () => {
    const padding = `<RemarkTable><RemarkGroup><RemarkSubjectDescription>RMRKS</RemarkSubjectDescription><RemarkSubjectLanguage>en</RemarkSubjectLanguage><Remark>${'x'.repeat(1000)}</Remark></RemarkGroup></RemarkTable>`;
    const huge = specimen.replace('</CocDataGroup>', `${padding.repeat(Math.ceil((50 * 1024 * 1024) / padding.length))}</CocDataGroup>`);
    expect(Buffer.byteLength(huge)).toBeGreaterThan(50 * 1024 * 1024);
    expect(() => readIvi(huge)).toThrow(new RegExp(`exceeds the limit of ${DEFAULT_MAX_XML_BYTES} bytes`));
    expect(validateIviXml(Buffer.from(huge)).errors[0]?.message).toMatch(/exceeds the limit/);
  });

  it('applies a configured size limit', () => {
    expect(() => readIvi(specimen, { maxBytes: 4096 })).toThrow(/bytes exceeds the limit of 4096 bytes/);
    expect(readIvi(specimen, { maxBytes: 64 * 1024 }).cocDataGroup.VehicleIdentificationNumber).toBe('JTJM1C0MPTEST0001');
  });

  it('reports malformed XML with its line', () => {
    expect(() => readIvi('<a>\n<b></a>', { source: 'upload.xml' })).toThrow(/not well-formed in upload\.xml \(line 2\)/);
  });
});

describe('encodings', () => {
  const vecto = (name: string) => readFileSync(new URL(`../fixtures/vecto/vehicle_sampleSingleModeDualFuel_2p4.${name}.xml`, import.meta.url), 'utf8');

  it('XML declaring another encoding than UTF-8 is refused with a clear message, as text and as bytes, by the VECTO and NAP answer readers: never decoded twice and garbled', () => {
    // Text is already decoded: following a declared ISO-8859-1 would turn CITROËN into CITROÃ\u008bN.
    const latin1Declared = (xml: string) => xml.replace(/^<\?xml version="1.0" encoding="[^"]*"\?>/, '<?xml version="1.0" encoding="ISO-8859-1"?>').replace('<Manufacturer>', '<Manufacturer>CITROËN ');
    const cif = latin1Declared(vecto('CUSTOMER'));
    expect(cif).toContain('encoding="ISO-8859-1"');
    const onlyUtf8 = /declaration names encoding "ISO-8859-1"; only UTF-8 is accepted/;
    for (const input of [cif, Buffer.from(cif, 'latin1')]) {
      let refused: unknown;
      try {
        importVecto({ cif: input, mrf: vecto('RSLT_MANUFACTURER') });
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(VectoFormatError);
      expect((refused as Error).message).toMatch(/^XML rejected in VECTO Customer Information File: /);
      expect((refused as Error).message).toMatch(onlyUtf8);
    }
    // Bytes that are not UTF-8 are refused, naming the first bad byte, not read as U+FFFD.
    expect(() => importVecto({ cif: Buffer.from(vecto('CUSTOMER').replace('<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"?>'), 'latin1').fill(0xcb, 200, 201), mrf: vecto('RSLT_MANUFACTURER') })).toThrow(
      /is not valid UTF-8 \(byte 0xCB at offset 200\)/,
    );

    // A NAP answer: the same refusal, whether the client hands over text or the bytes it received.
    const receipt = buildReceiptResponse('SubmitIvi', { receiptId: 'R-1', vin: 'JTJM1C0MPTEST0001', receivedAt: '2026-01-01T00:00:00Z', replayed: false }, '1.1').body;
    expect(parseResponse(Buffer.from(receipt))).toMatchObject({ kind: 'receipt', receipt: { receiptId: 'R-1' } });
    const declared = receipt.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace('R-1', 'CITROËN-1');
    for (const input of [declared, Buffer.from(declared, 'latin1')]) expect(() => parseResponse(input)).toThrow(NapEnvelopeError);
    expect(() => parseResponse(declared)).toThrow(onlyUtf8);
    expect(() => parseResponse(Buffer.from(receipt.replace('encoding="UTF-8"', ''), 'utf8').fill(0xff, 100, 101))).toThrow(/NAP response: the document is not valid UTF-8 \(byte 0xFF at offset 100\)/);

    // UTF-8, declared or not, keeps every character.
    for (const input of ['<a>CITROËN</a>', '<?xml version="1.0" encoding="utf-8"?><a>CITROËN</a>', Buffer.from('\uFEFF<a>CITROËN</a>')]) expect(parseUntrustedXml(input).text).toBe('CITROËN');
  });
});

describe('reader errors', () => {
  const readError = (xml: string): IviReadError => {
    try {
      readIvi(xml);
    } catch (error) {
      if (error instanceof IviReadError) return error;
      throw error;
    }
    throw new Error('expected an IviReadError');
  };

  it('names unknown, repeated and mistyped elements with path and line', () => {
    const broken = specimen
      .replace('<Type>', '<Typo>x</Typo><Type>')
      .replace('<MaximumSpeed>160</MaximumSpeed>', '<MaximumSpeed>fast</MaximumSpeed><MaximumSpeed>160</MaximumSpeed>');
    const problems = readError(broken).problems;
    expect(problems).toContainEqual(expect.objectContaining({ path: 'CocDataGroup/Typo', line: expect.any(Number) }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'CocDataGroup/MaximumSpeed', message: '"fast" is not an xs:decimal' }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'CocDataGroup/MaximumSpeed', message: 'element occurs more than once' }));
  });

  it('rejects a foreign root element and reports facet violations by field path', () => {
    expect(readError('<InitialVehicleInformation/>').problems[0]?.message).toMatch(/root must be/);
    const tooLong = specimen.replace('<Type>EBM1(M)</Type>', '<Type>THIS-TYPE-IS-FAR-TOO-LONG</Type>');
    expect(readError(tooLong).problems).toContainEqual(expect.objectContaining({ path: 'CocDataGroup/Type' }));
  });

  it('reports whether a signature was present', () => {
    expect(readIviDocument(specimen).signed).toBe(true);
    expect(readIviDocument(specimen.replace(/<Signature [\s\S]*<\/Signature>/, '')).signed).toBe(false);
  });
});
