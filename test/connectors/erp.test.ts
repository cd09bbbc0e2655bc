import { createReadStream, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErpFileError } from '../../connectors/erp/errors.ts';
import { erpFormatOf, parseErpFile, type ErpRowResult } from '../../connectors/erp/parse.ts';
import { createErpReportBuilder } from '../../connectors/erp/report.ts';
import { erpMappingSchema, type ErpMapping } from '../../schemas/erp/mapping.ts';
import { erpReportSchema } from '../../schemas/erp/report.ts';
import { textProblem } from '../../schemas/text-rule.ts';

const fixture = (name: string) => new URL(`../fixtures/erp/${name}`, import.meta.url);
const csvMapping = erpMappingSchema.parse(JSON.parse(readFileSync(fixture('mapping-csv.json'), 'utf8')));
const jsonMapping = erpMappingSchema.parse(JSON.parse(readFileSync(fixture('mapping-json.json'), 'utf8')));

async function collect(input: AsyncIterable<Uint8Array | string>, mapping: ErpMapping, format: 'csv' | 'json' | 'ndjson') {
  const results: ErpRowResult[] = [];
  let failure: unknown;
  try {
    for await (const result of parseErpFile(input, mapping, format)) results.push(result);
  } catch (error) {
    failure = error;
  }
  return { results, failure };
}

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

const rowErrors = (results: ErpRowResult[], row: number) => {
  const result = results.find((r) => r.row === row);
  return result && 'errors' in result ? result.errors : undefined;
};

describe('ERP CSV', () => {
  it('maps good rows to vehicle records and reports each bad cell with column, value and rule', async () => {
    const { results, failure } = await collect(createReadStream(fixture('vehicles-mixed.csv')), csvMapping, 'csv');
    expect(failure).toBeUndefined();
    const accepted = results.filter((r) => 'record' in r);
    expect(accepted.map((r) => r.row)).toEqual([2, 3, 9]);
    expect(accepted[0]).toEqual({
      row: 2,
      record: {
        manufacturerId: 'acme-trucks',
        vin: 'WMA06XZZ1NM000001',
        stage: 1,
        typeApprovalNumber: 'e1*2018/858*00123*01',
        variant: 'A1',
        version: 'V1',
        destination: 'nap-de',
        values: {
          MassGroup: { TechnicallyPermissibleMaximumLadenMass: 40000 },
          DimensionGroup: { Length: 16500 },
          GeneralConstructionGroup: { NumberOfAxles: 2 },
          EnergyConvertorTable: { EnergyConvertorGroup: [{ EnergySourceTable: { EnergySourceGroup: [{ EnergySource: '20' }] } }] },
          TypeApprovalIssueDate: '2022-01-04',
        },
      },
    });
    expect(accepted[1]).toMatchObject({ record: { values: { MassGroup: { TechnicallyPermissibleMaximumLadenMass: 18600 }, DimensionGroup: { Length: 9820 } } } });

    expect(rowErrors(results, 4)).toEqual([
      { column: 'Fahrgestellnummer', value: 'WMA06XZZ1NM00000O', rule: 'vehicle_record.invalid_format', message: expect.stringMatching(/^vin: VIN must be 17 characters/) },
    ]);
    expect(rowErrors(results, 5)).toEqual([
      { column: 'Zul. Gesamtmasse (t)', value: 'vierzig', rule: 'number', message: '"vierzig" is not a number (decimal separator ",")' },
      { column: 'Kraftstoff', value: 'Benzin', rule: 'code', message: '"Benzin" is not one of Diesel, Elektro, CNG' },
      { column: 'Genehmigt am', value: '31.02.2022', rule: 'date', message: '"31.02.2022" is not a calendar date' },
    ]);
    expect(rowErrors(results, 6)).toEqual([{ column: '*', value: expect.stringContaining('WMA06XZZ1NM000005'), rule: 'column_count', message: 'expected 10 columns as in the header, found 3' }]);
    expect(rowErrors(results, 7)).toEqual([{ column: 'Fahrgestellnummer', value: '', rule: 'required', message: 'Fahrgestellnummer is required' }]);
    expect(rowErrors(results, 8)).toEqual([{ column: '*', value: expect.stringContaining('"Gruen"x'), rule: 'malformed_csv', message: expect.stringMatching(/Invalid Closing Quote/) }]);
    expect(results).toHaveLength(8);
  });

  it('builds the report file content from the streamed results', async () => {
    const builder = createErpReportBuilder({ name: 'vehicles-mixed.csv', sha256: 'ab'.repeat(32), manufacturerId: 'acme-trucks' });
    for await (const result of parseErpFile(createReadStream(fixture('vehicles-mixed.csv')), csvMapping, 'csv')) builder.add(result);
    const report = builder.finish(new Date('2026-07-06T09:00:00Z'));
    expect(erpReportSchema.parse(report)).toEqual(report);
    expect(report).toMatchObject({ file: 'vehicles-mixed.csv', status: 'partial', processedAt: '2026-07-06T09:00:00.000Z', totals: { rows: 8, accepted: 3, rejected: 5 } });
    expect(report.rows[0]).toEqual({ row: 2, status: 'accepted', vin: 'WMA06XZZ1NM000001' });
    expect(report.rows.find((r) => r.row === 4)).toMatchObject({ status: 'rejected', vin: 'WMA06XZZ1NM00000O', errors: [{ column: 'Fahrgestellnummer', rule: 'vehicle_record.invalid_format' }] });
    expect(report.fileError).toBeUndefined();
  });

  it('names the line of bytes that are not valid in the configured encoding, keeping the rows before', async () => {
    const header = 'Fahrgestellnummer;Typgenehmigung;Variante;Version;Ziel;Zul. Gesamtmasse (t);Laenge (m);Achsen;Kraftstoff;Genehmigt am\n';
    const good = 'WMA06XZZ1NM000001;e1*2018/858*00123*01;A1;V1;;40;16,5;2;Diesel;04.01.2022\n';
    const latin1 = Buffer.from('WMA06XZZ1NM000002;e1*2018/858*00123*01;Gr\xfcn;V1;;40;16,5;2;Diesel;04.01.2022\n', 'latin1');
    const { results, failure } = await collect(chunks(header, good, latin1), csvMapping, 'csv');
    expect(results.map((r) => r.row)).toEqual([2]);
    expect(failure).toBeInstanceOf(ErpFileError);
    expect(failure).toMatchObject({ rule: 'encoding', row: 3, message: 'file is not valid utf-8: undecodable bytes at line 3' });

    const windows = erpMappingSchema.parse({ ...csvMapping, csv: { delimiter: ';', encoding: 'windows-1252' } });
    const decoded = await collect(chunks(header, good, latin1), windows, 'csv');
    expect(decoded.failure).toBeUndefined();
    expect(decoded.results[1]).toMatchObject({ row: 3, record: { variant: 'Grün' } });
  });

  it('reports a quote that is never closed, after the rows before it', async () => {
    const file = `${readFileSync(fixture('vehicles-mixed.csv'), 'utf8').split('\r\n').slice(0, 3).join('\r\n')}\r\nWMA06XZZ1NM000003;"e1*2018/858;A1;V1;;40;16,5;2;Diesel;04.01.2022\r\nWMA06XZZ1NM000004;e1;A1;V1;;40;16,5;2;Diesel;04.01.2022\r\n`;
    const { results, failure } = await collect(chunks(file), csvMapping, 'csv');
    expect(failure).toBeUndefined();
    expect(results.filter((r) => 'record' in r).map((r) => r.row)).toEqual([2, 3]);
    expect(results.at(-1)).toMatchObject({ errors: [{ rule: 'unclosed_quote', message: expect.stringMatching(/never closed/) }] });
  });

  it('stops at the file size limit with a clear error and keeps rows per the row limit', async () => {
    const small = erpMappingSchema.parse({ ...csvMapping, limits: { maxFileBytes: 400, maxRowBytes: 150 } });
    const { results, failure } = await collect(createReadStream(fixture('vehicles-mixed.csv'), { highWaterMark: 64 }), small, 'csv');
    expect(failure).toMatchObject({ rule: 'file_too_large', message: expect.stringMatching(/exceeds the limit of 400 bytes/) });
    expect(results.length).toBeGreaterThan(0);

    const header = readFileSync(fixture('vehicles-mixed.csv'), 'utf8').split('\r\n')[0];
    const huge = `WMA06XZZ1NM000009;${'x'.repeat(300)};A1;V1;;40;16,5;2;Diesel;04.01.2022`;
    const good = 'WMA06XZZ1NM000010;e1*2018/858*00123*01;A1;V1;;40;16,5;2;Diesel;04.01.2022';
    const narrow = erpMappingSchema.parse({ ...csvMapping, limits: { maxRowBytes: 150 } });
    const rows = await collect(chunks(`${header}\n${huge}\n${good}\n`), narrow, 'csv');
    expect(rows.failure).toBeUndefined();
    expect(rows.results[0]).toMatchObject({ row: 2, errors: [{ rule: 'row_too_large' }] });
    expect(rows.results[1]).toMatchObject({ row: 3, record: { vin: 'WMA06XZZ1NM000010' } });
  });

  it('keeps a stray quote inside an unquoted field to its own row; doubled quotes in a quoted field are data', async () => {
    const header = readFileSync(fixture('vehicles-mixed.csv'), 'utf8').split('\r\n')[0];
    const row = (vin: string, variant: string) => `WMA06XZZ1NM00000${vin};e1*2018/858*00123*01;${variant};V1;;40;16,5;2;Diesel;04.01.2022`;
    const { results, failure } = await collect(chunks(`${header}\n${row('1', '12" wheel')}\n${row('2', 'A1')}\n${row('3', '"12"" wheel"')}\n${row('4', '"12" wheel"')}\n${row('5', 'A1')}\n`), csvMapping, 'csv');
    expect(failure).toBeUndefined();
    expect(results.map((r) => [r.row, 'record' in r ? r.record.variant : r.errors[0]!.rule])).toEqual([
      [2, 'malformed_csv'],
      [3, 'A1'],
      [4, '12" wheel'],
      [5, 'malformed_csv'],
      [6, 'A1'],
    ]);
  });

  it('refuses a file whose header lacks a required column', async () => {
    const { failure } = await collect(chunks('Fahrgestellnummer;Variante\nWMA06XZZ1NM000001;A1\n'), csvMapping, 'csv');
    expect(failure).toMatchObject({ rule: 'missing_column', message: 'header (line 1) lacks required column(s): Typgenehmigung, Version' });
  });

  it('streams: 10,000 rows flow through while only part of the input has been produced', async () => {
    const header = readFileSync(fixture('vehicles-mixed.csv'), 'utf8').split('\r\n')[0];
    let produced = 0;
    async function* generate(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`${header}\n`);
      for (let i = 0; i < 10_000; i++) {
        produced++;
        yield Buffer.from(`WMA06XZZ1NM${String(i).padStart(6, '0')};e1*2018/858*00123*01;A1;V1;;40;16,5;2;Diesel;04.01.2022\n`);
      }
    }
    let producedAtFirst = -1;
    let records = 0;
    for await (const result of parseErpFile(generate(), csvMapping, 'csv')) {
      if (producedAtFirst < 0) producedAtFirst = produced;
      if ('record' in result) records++;
    }
    expect(records).toBe(10_000);
    expect(producedAtFirst).toBeLessThan(1_000);
  });
});

describe('ERP JSON', () => {
  it('reads a top-level array element by element; bad elements are row errors', async () => {
    const { results, failure } = await collect(createReadStream(fixture('vehicles-mixed.json'), { highWaterMark: 97 }), jsonMapping, 'json');
    expect(failure).toBeUndefined();
    expect(results.map((r) => [r.row, 'record' in r])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
      [6, true],
    ]);
    expect(results[0]).toMatchObject({ record: { vin: 'WMA06XZZ1NM000101', stage: 1, values: { MassGroup: { TechnicallyPermissibleMaximumLadenMass: 40000 }, PureElectricVehicleIndicator: 'N' } } });
    expect(rowErrors(results, 2)).toEqual([
      { column: 'masses.maxLadenKg', value: '1234567', rule: 'vehicle_record.too_big', message: expect.stringMatching(/^values\.MassGroup\.TechnicallyPermissibleMaximumLadenMass: /) },
    ]);
    expect(rowErrors(results, 3)).toEqual([{ column: 'pureElectric', value: 'maybe', rule: 'indicator', message: expect.stringContaining('neither yes nor no') }]);
    expect(rowErrors(results, 4)).toMatchObject([{ column: '*', rule: 'malformed_json' }]);
    expect(rowErrors(results, 5)).toMatchObject([{ column: '*', rule: 'not_an_object' }]);
  });

  it('reads NDJSON line by line', async () => {
    const lines = readFileSync(fixture('vehicles-mixed.json'), 'utf8').trim().slice(1, -1).split(/,\n/).map((line) => line.trim());
    const { results, failure } = await collect(chunks(lines.join('\n')), jsonMapping, 'ndjson');
    expect(failure).toBeUndefined();
    expect(results.map((r) => [r.row, 'record' in r])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
      [6, true],
    ]);
  });

  it('refuses an unquoted number too large to read exactly instead of storing the rounded one', async () => {
    const element = { vin: 0, approval: { number: 'e1*2018/858*00123*01', variant: 'A1', version: 'V1' } };
    const { results } = await collect(chunks(`[${JSON.stringify(element).replace('"vin":0', '"vin":12345678901234567')}]`), jsonMapping, 'json');
    expect(results).toEqual([{ row: 1, errors: [{ column: 'vin', value: '12345678901234568', rule: 'number_precision', message: expect.stringMatching(/^vin is a number too large to read exactly/) }] }]);
  });

  it('reports a truncated array and content that is not an array', async () => {
    const truncated = await collect(chunks('[{"vin": "WMA06XZZ1NM000101", "approval": {"number": "e1*2018/858*00123*01", "variant": "A1", "version": "V1"}}, {"vin": "WMA'), jsonMapping, 'json');
    expect(truncated.results).toHaveLength(1);
    expect(truncated.failure).toMatchObject({ rule: 'malformed_json', message: 'the JSON array is not closed (file ends inside element 2)' });
    const object = await collect(chunks('{"vin": "x"}'), jsonMapping, 'json');
    expect(object.failure).toMatchObject({ rule: 'malformed_json', message: expect.stringMatching(/expected a JSON array/) });
  });

  it('knows formats by file name', () => {
    expect([erpFormatOf('a.CSV'), erpFormatOf('b.json'), erpFormatOf('c.jsonl'), erpFormatOf('d.ndjson'), erpFormatOf('e.xlsx'), erpFormatOf('f.xls')]).toEqual(['csv', 'json', 'ndjson', 'ndjson', 'xlsx', undefined]);
  });
});

describe('ERP text rule', () => {
  it('NUL bytes, unpaired surrogates and over-long texts in CSV and JSON cells are per-cell report entries; the other rows carry on and the report quotes them printably', async () => {
    const header = 'Fahrgestellnummer;Typgenehmigung;Variante;Version;Ziel';
    const good = (vin: string, destination = 'nap-de') => `${vin};e1*2018/858*00123*01;A1;V1;${destination}`;
    const csv = [
      header,
      good('WMA06XZZ1NM000201'),
      'WMA06XZZ1NM000202;e1*2018/858*00123*01;A\u0000;V1;nap-de', // a NUL byte in Variante
      good('WMA06XZZ1NM000203', 'x'.repeat(5_000)),
      good('WMA06XZZ1NM000204'),
    ].join('\n');
    const csvRun = await collect(chunks(csv), csvMapping, 'csv');
    expect(csvRun.failure).toBeUndefined();
    expect(csvRun.results.map((r) => [r.row, 'record' in r])).toEqual([
      [2, true],
      [3, false],
      [4, false],
      [5, true],
    ]);
    expect(rowErrors(csvRun.results, 3)).toEqual([{ column: 'Variante', value: 'A\u0000', rule: 'text', message: 'Variante contains a NUL character at position 2' }]);
    expect(rowErrors(csvRun.results, 4)).toEqual([
      { column: 'Ziel', value: 'x'.repeat(5_000), rule: 'vehicle_record.custom', message: 'destination: is longer than 100 characters (5000)' },
    ]);

    // JSON escapes bring both a NUL and a lone surrogate into a cell.
    const json = `[
      {"vin": "WMA06XZZ1NM000301", "approval": {"number": "e1*2018/858*00123*01", "variant": "A1", "version": "V1"}},
      {"vin": "WMA06XZZ1NM000302", "approval": {"number": "e1*2018/858*00123*01", "variant": "A\\ud800", "version": "V1"}},
      {"vin": "WMA06XZZ1NM000303", "approval": {"number": "e1*2018/858*00123*01\\u0000", "variant": "A1", "version": "V1"}},
      {"vin": "WMA06XZZ1NM000304", "approval": {"number": "e1*2018/858*00123*01", "variant": "A1", "version": "V1"}}
    ]`;
    const jsonRun = await collect(chunks(json), jsonMapping, 'json');
    expect(jsonRun.failure).toBeUndefined();
    expect(jsonRun.results.map((r) => [r.row, 'record' in r])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(rowErrors(jsonRun.results, 2)).toEqual([{ column: 'approval.variant', value: 'A\ud800', rule: 'text', message: 'approval.variant contains an unpaired surrogate (U+D800) at position 2' }]);
    expect(rowErrors(jsonRun.results, 3)).toMatchObject([{ column: 'approval.number', rule: 'text', message: expect.stringContaining('NUL character') }]);

    // The report quotes the refused values as escapes and cut short: it is text PostgreSQL (jsonb) and every reader accept.
    const builder = createErpReportBuilder({ name: 'mixed.json', sha256: 'x', manufacturerId: 'acme-trucks' });
    for (const result of [...csvRun.results, ...jsonRun.results]) builder.add(result);
    const report = builder.finish();
    expect(report).toMatchObject({ status: 'partial', totals: { rows: 8, accepted: 4, rejected: 4 } });
    const texts: string[] = [];
    JSON.stringify(report, (_key, value: unknown) => (typeof value === 'string' && texts.push(value), value));
    expect(texts.filter((text) => textProblem(text) !== undefined)).toEqual([]);
    const quoted = report.rows.flatMap((row) => (row.status === 'rejected' ? row.errors.map((error) => error.value) : []));
    expect(quoted).toEqual(['A\\u0000', `${'x'.repeat(199)}…`, 'A\\uD800', 'e1*2018/858*00123*01\\u0000']);
  });
});

describe('ERP mapping', () => {
  it('rejects inconsistent mappings before any file is read', () => {
    const result = erpMappingSchema.safeParse({
      manufacturerId: 'x',
      columns: [
        { column: 'a', target: 'vin' },
        { column: 'b', target: 'vin' },
        { column: 'c', target: 'values.MassGroup.ActualMass', type: 'integer', unit: { from: 'kg', to: 'mm' } },
        { column: 'd', target: 'values.TypeApprovalIssueDate', type: 'date' },
        { column: 'e', target: 'colour' },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain(
      'columns.4.target: expected a vehicle-record field (vin, stage, typeApprovalNumber, variant, version, destination, intendedCountryRegistration) or values.<IVI path>',
    );
    const second = erpMappingSchema.safeParse({
      manufacturerId: 'x',
      columns: [
        { column: 'a', target: 'vin' },
        { column: 'b', target: 'vin' },
        { column: 'c', target: 'values.MassGroup.ActualMass', type: 'integer', unit: { from: 'kg', to: 'mm' } },
        { column: 'd', target: 'values.TypeApprovalIssueDate', type: 'date' },
      ],
    });
    expect(second.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'columns.2.unit: cannot convert kg to mm',
      'columns.3.dateFormat: date columns need a dateFormat',
      'columns.1.target: vin is already filled by columns[0]',
    ]);
  });
});
