import ExcelJS from 'exceljs';
import yazl from 'yazl';
import { describe, expect, it } from 'vitest';
import { readTypeApprovalFile, writeTypeApprovalFile } from '../../ivi/type-approvals/files/index.ts';
import { APPROVAL_FIELDS } from '../../ivi/type-approvals/files/table.ts';
import { revisionMetaSchema, typeApprovalSchema, type TypeApprovalDraft } from '../../schemas/ivi/type-approval.ts';

const context = { manufacturerId: 'toyota' };

const TYRE = 'AxleTable.AxleGroup[1].TyreAxleTable.TyreAxleGroup[1].TyreSize';
const REAR_TYRE = 'AxleTable.AxleGroup[2].TyreAxleTable.TyreAxleGroup[1].TyreSize';
const ENERGY = 'EnergyConvertorTable.EnergyConvertorGroup[1].EnergySourceTable.EnergySourceGroup[1].EnergySource';
const HEADER = ['Variant', 'Version', 'MassGroup.MassInRunningOrder', 'DimensionGroup.Length', 'AllowedParameterValuesMultistageGroup.AllowedRollingResistance', TYRE, REAR_TYRE, ENERGY, 'MakeTable.MakeGroup[1].Make'];

/** 2 variants × 3 versions; `mass` and `tyre` differ per version, energy is a number cell for a code. */
const versionRows = (): ExcelJS.CellValue[][] =>
  ['XEBM15(W)', 'XEBM16(W)'].flatMap((variant, v) =>
    ['FWD', 'AWD', 'AWD-LSW'].map((version, i) => [variant, version, 2050 + 10 * (3 * v + i), 4910, 7.1, `235/50R${19 + i}`, i === 0 ? null : '255/45R20', 95, 'LEXUS']),
  );

const expectedDraft: TypeApprovalDraft = {
  manufacturerId: 'toyota',
  number: 'e6*2018/858*00264*01',
  baseAct: '(EU) 2018/858',
  issueDate: '2023-11-24',
  typeApprovalType: 'EU',
  vehicleCategory: 'M1',
  approvalCountry: 'e6',
  type: 'EBM1(M)',
  revision: { extensionNumber: '01', effectiveDate: '2024-01-01', reason: 'Extension: 20" wheels' },
  versions: ['XEBM15(W)', 'XEBM16(W)'].flatMap((variant, v) =>
    ['FWD', 'AWD', 'AWD-LSW'].map((version, i) => ({
      variant,
      version,
      values: {
        MassGroup: { MassInRunningOrder: 2050 + 10 * (3 * v + i) },
        DimensionGroup: { Length: 4910 },
        AllowedParameterValuesMultistageGroup: { AllowedRollingResistance: 7.1 },
        AxleTable: {
          AxleGroup: [{ TyreAxleTable: { TyreAxleGroup: [{ TyreSize: `235/50R${19 + i}` }] } }, ...(i === 0 ? [] : [{ TyreAxleTable: { TyreAxleGroup: [{ TyreSize: '255/45R20' }] } }])],
        },
        EnergyConvertorTable: { EnergyConvertorGroup: [{ EnergySourceTable: { EnergySourceGroup: [{ EnergySource: '95' }] } }] },
        MakeTable: { MakeGroup: [{ Make: 'LEXUS' }] },
      },
    })),
  ),
};

interface Workbook {
  approval?: ExcelJS.CellValue[][];
  versions?: ExcelJS.CellValue[][];
  edit?: (book: ExcelJS.Workbook) => void;
}

/** A workbook as a homologation team would type it: dates as date cells and serials, a blank row, text codes as numbers. */
async function workbook({ approval, versions, edit }: Workbook = {}): Promise<Uint8Array> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Approval');
  for (const row of approval ?? [
    ['Number', 'e6*2018/858*00264*01'],
    ['BaseAct', '(EU) 2018/858'],
    ['IssueDate', new Date(Date.UTC(2023, 10, 24))],
    ['VehicleCategory', 'M1'],
    [],
    ['ApprovalCountry', 'e6'],
    ['Type', 'EBM1(M)'],
    ['ExtensionNumber', '01'],
    ['EffectiveDate', 45292],
    ['Reason', 'Extension: 20" wheels'],
  ]) sheet.addRow(row);
  const table = book.addWorksheet('Versions');
  const rows = versions ?? [HEADER, ...versionRows()];
  rows.forEach((row, index) => {
    table.addRow(row);
    if (index === 3) table.addRow(['   ']);
  });
  edit?.(book);
  return new Uint8Array(await book.xlsx.writeBuffer());
}

const read = (bytes: Uint8Array, format: 'xlsx' | 'csv' | 'json' = 'xlsx', options = {}) => readTypeApprovalFile(bytes, format, context, options);

function zip(entries: Record<string, Buffer>): Promise<Buffer> {
  const file = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) file.addBuffer(content, name);
  file.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    file.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}

describe('type-approval files: XLSX', () => {
  it('reads an approval with 2 variants × 3 versions typed in Excel: date cells and serials become YYYY-MM-DD, blank rows are skipped', async () => {
    const result = await read(await workbook());
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.draft).toEqual(expectedDraft);
  });

  it('names sheet, row, column, header and IVI field of exactly the three bad cells, and returns no draft', async () => {
    const rows = versionRows();
    rows[0]![2] = 'heavy'; // MassInRunningOrder, row 2
    rows[2]![5] = '235/50R19 EXTRA LOAD REINFORCED'; // TyreSize longer than Text20, row 4
    rows[4]![7] = 'X9'; // not an energy source code, row 7 (row 5 is blank)
    const result = await read(await workbook({ versions: [HEADER, ...rows] }));
    expect(result.draft).toBeUndefined();
    expect(result.problems).toHaveLength(3);
    expect(result.problems.map(({ sheet, row, column, header, field }) => ({ sheet, row, column, header, field }))).toEqual([
      { sheet: 'Versions', row: 2, column: 'C', header: 'MassGroup.MassInRunningOrder', field: 'CocDataGroup/MassGroup/MassInRunningOrder' },
      { sheet: 'Versions', row: 4, column: 'F', header: TYRE, field: 'CocDataGroup/AxleTable/AxleGroup[1]/TyreAxleTable/TyreAxleGroup[1]/TyreSize' },
      {
        sheet: 'Versions',
        row: 7,
        column: 'H',
        header: ENERGY,
        field: 'CocDataGroup/EnergyConvertorTable/EnergyConvertorGroup[1]/EnergySourceTable/EnergySourceGroup[1]/EnergySource',
      },
    ]);
    expect(result.problems[0]!.message).toContain('"heavy" is not a number');
  });

  it('refuses unknown IVI fields, groups and repeated groups without a row number as header problems', async () => {
    const header = ['Variant', 'Version', 'MassGroup.HeavyMass', 'MassGroup', 'AxleTable.AxleGroup.AxleNumber'];
    const result = await read(await workbook({ versions: [header, ['A', '1', 1, 2, 3]] }));
    expect(result.draft).toBeUndefined();
    expect(result.problems.map(({ row, column, field }) => ({ row, column, field }))).toEqual([
      { row: 1, column: 'C', field: 'MassGroup.HeavyMass' },
      { row: 1, column: 'D', field: 'MassGroup' },
      { row: 1, column: 'E', field: 'AxleTable.AxleGroup.AxleNumber' },
    ]);
    expect(result.problems[0]!.message).toContain('HeavyMass is not an element of MassGroup');
  });

  it('refuses a variant/version pair that is already in an earlier row', async () => {
    const rows = versionRows();
    rows[3]![0] = 'XEBM15(W)'; // row 6 (after the blank row 5) repeats row 2
    rows[3]![1] = 'FWD';
    const result = await read(await workbook({ versions: [HEADER, ...rows] }));
    expect(result.draft).toBeUndefined();
    expect(result.problems).toEqual([{ sheet: 'Versions', row: 6, column: 'B', header: 'Version', message: 'variant XEBM15(W) version FWD is already in row 2' }]);
  });

  it('warns (and still reads) a type-approval number outside the Annex IV format', async () => {
    const approval = [
      ['Number', 'KBA 12345'],
      ['IssueDate', '2023-11-24'],
      ['VehicleCategory', 'M1'],
      ['ApprovalCountry', 'e1'],
      ['Type', 'EBM1(M)'],
      ['ExtensionNumber', '00'],
      ['EffectiveDate', '2024-01-01'],
      ['Reason', 'first'],
    ];
    const result = await read(await workbook({ approval }));
    expect(result.problems).toEqual([]);
    expect(result.draft?.number).toBe('KBA 12345');
    expect(result.warnings).toEqual([{ sheet: 'Approval', row: 1, column: 'B', header: 'Number', field: 'number', message: expect.stringContaining('IVI-TAN-001') }]);
  });

  it('refuses an approval field that is unknown, missing or not a date', async () => {
    const approval = [
      ['Number', 'e6*2018/858*00264*01'],
      ['IssueDate', new Date(Date.UTC(2023, 10, 24, 14, 30))],
      ['VehicleCategory', 'M9'],
      ['ApprovalCountry', 'e6'],
      ['Type', 'EBM1(M)'],
      ['Colour', 'red'],
      ['ExtensionNumber', '01'],
      ['EffectiveDate', '2024-01-01'],
    ];
    const result = await read(await workbook({ approval }));
    expect(result.draft).toBeUndefined();
    expect(result.problems.map(({ row, column, field }) => ({ row, column, field }))).toEqual([
      { row: 2, column: 'B', field: 'issueDate' },
      { row: 6, column: 'B', field: undefined },
      { row: 3, column: 'B', field: 'vehicleCategory' },
      { row: undefined, column: undefined, field: 'revision.reason' },
    ]);
    expect(result.problems[0]!.message).toContain('not a date without time of day');
    expect(result.problems[1]!.message).toContain('unknown approval field Colour');
  });

  it('refuses a formula, naming its cell', async () => {
    const rows = versionRows();
    rows[1]![2] = { formula: 'C2+10', result: 2060 };
    const result = await read(await workbook({ versions: [HEADER, ...rows] }));
    expect(result.draft).toBeUndefined();
    expect(result.problems).toEqual([{ sheet: 'Versions', row: 3, column: 'C', message: expect.stringContaining('cell C3 holds a formula (C2+10)') }]);
  });

  it('refuses merged cells, naming the range', async () => {
    const bytes = await workbook({ edit: (book) => book.getWorksheet('Versions')!.mergeCells('A2:A4') });
    const result = await read(bytes);
    expect(result.draft).toBeUndefined();
    expect(result.problems).toEqual([{ sheet: 'Versions', row: 2, column: 'A', message: expect.stringContaining('merged cells (A2:A4)') }]);
  });

  it('refuses a workbook without the Versions sheet', async () => {
    const result = await read(await workbook({ edit: (book) => book.removeWorksheet(book.getWorksheet('Versions')!.id) }));
    expect(result.problems).toEqual([{ sheet: 'Versions', message: 'the workbook has no sheet named Versions (it has Approval)' }]);
  });

  it('refuses files that are not spreadsheets: a text file, a zip without a workbook', async () => {
    const text = await read(new TextEncoder().encode('Variant,Version\nA,1\n'));
    expect(text.problems).toEqual([{ message: expect.stringContaining('not an XLSX file (not a zip archive') }]);
    const other = await read(await zip({ 'notes.txt': Buffer.from('hello') }));
    expect(other.problems).toEqual([{ message: expect.stringContaining('not an XLSX workbook') }]);
    expect(other.draft).toBeUndefined();
  });

  it('refuses a zip bomb before exceljs inflates it: by declared size, and by actual size when the zip lies', async () => {
    const limits = { maxUncompressedBytes: 1024 * 1024, maxEntries: 100 };
    const zeros = Buffer.alloc(8 * 1024 * 1024);
    const bomb = await zip({ '[Content_Types].xml': Buffer.from('<Types/>'), 'xl/workbook.xml': Buffer.from('<workbook/>'), 'xl/media/zeros.bin': zeros });
    expect(bomb.length).toBeLessThan(100 * 1024);
    const declared = await read(bomb, 'xlsx', { xlsxLimits: limits });
    expect(declared.problems).toEqual([{ message: expect.stringMatching(/declares \d+ bytes unpacked, above the limit of 1048576 bytes/) }]);

    // The central directory claims 1,000 bytes for the 8 MiB part: yauzl stops inflating it.
    const lying = Buffer.from(bomb);
    const entry = lying.indexOf('xl/media/zeros.bin', lying.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), lying.length));
    lying.writeUInt32LE(1000, entry - 46 + 24);
    const actual = await read(lying, 'xlsx', { xlsxLimits: limits });
    expect(actual.problems).toEqual([{ message: expect.stringContaining('the XLSX zip is damaged at xl/media/zeros.bin: too many bytes in the stream') }]);
  });

  it('keeps text that looks like a number as text in a round trip (extension 01)', async () => {
    const bytes = await writeTypeApprovalFile(expectedDraft, 'xlsx');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(bytes) as unknown as ExcelJS.Buffer);
    expect(book.getWorksheet('Approval')!.getCell('B8').value).toBe('01');
    expect(book.getWorksheet('Versions')!.getRow(1).values).toEqual([undefined, ...HEADER.filter((name) => name !== REAR_TYRE).slice(0, 6), ENERGY, 'MakeTable.MakeGroup[1].Make', REAR_TYRE]);
  });
});

describe('type-approval files: CSV and JSON', () => {
  it('refuses a CSV row whose approval fields differ from the first row', async () => {
    const csv = new TextDecoder().decode(await writeTypeApprovalFile(expectedDraft, 'csv')).split('\n');
    csv[3] = csv[3]!.replace('M1', 'N1');
    const result = await read(new TextEncoder().encode(csv.join('\n')), 'csv');
    expect(result.draft).toBeUndefined();
    expect(result.problems).toEqual([{ row: 4, column: 'E', header: 'VehicleCategory', message: expect.stringContaining('"N1" differs from "M1" in row 2') }]);
  });

  it('names the line of a bad CSV cell', async () => {
    const csv = new TextDecoder().decode(await writeTypeApprovalFile(expectedDraft, 'csv')).split('\n');
    csv[2] = csv[2]!.replace(',2060,', ',2.060 t,');
    const result = await read(new TextEncoder().encode(csv.join('\n')), 'csv');
    expect(result.problems).toEqual([{ row: 3, column: 'M', header: 'MassGroup.MassInRunningOrder', field: 'CocDataGroup/MassGroup/MassInRunningOrder', message: '"2.060 t" is not a number' }]);
  });

  it('refuses JSON for another manufacturer, with values the IVI model does not allow, or with a repeated variant/version', async () => {
    const bad = {
      ...expectedDraft,
      manufacturerId: 'renault',
      versions: [expectedDraft.versions[0]!, { ...expectedDraft.versions[1]!, values: { MassGroup: { MassInRunningOrder: 'heavy' } } }, expectedDraft.versions[0]!],
    };
    const result = await read(new TextEncoder().encode(JSON.stringify(bad)), 'json');
    expect(result.draft).toBeUndefined();
    expect(result.problems.map(({ field }) => field)).toEqual(['manufacturerId', 'CocDataGroup/MassGroup/MassInRunningOrder']);
    const repeated = await read(new TextEncoder().encode(JSON.stringify({ ...expectedDraft, versions: [expectedDraft.versions[0]!, expectedDraft.versions[0]!] })), 'json');
    expect(repeated.problems).toEqual([{ field: 'versions[2]', message: 'variant XEBM15(W) version FWD is already versions[1]' }]);
  });

  it('names every approval and revision field of the draft schema in the Approval layout', () => {
    const keys = [...Object.keys(typeApprovalSchema.shape).filter((key) => key !== 'manufacturerId' && key !== 'versions'), ...Object.keys(revisionMetaSchema.shape).map((key) => `revision.${key}`)];
    expect(APPROVAL_FIELDS.map(({ path }) => path.join('.')).sort()).toEqual(keys.sort());
  });
});

describe('type-approval files: round trips', () => {
  it('writes IVI fields named like layout columns (Variant, Type) as CocDataGroup.<name> and reads them back', async () => {
    const draft = { ...expectedDraft, versions: expectedDraft.versions.map((version) => ({ ...version, values: { ...version.values, Variant: version.variant, Type: 'EBM1(M)' } })) };
    for (const format of ['xlsx', 'csv', 'json'] as const) {
      const again = await read(await writeTypeApprovalFile(draft, format), format);
      expect(again.problems).toEqual([]);
      expect(again.draft).toEqual(draft);
    }
    const csvHeader = new TextDecoder().decode(await writeTypeApprovalFile(draft, 'csv')).split('\n')[0];
    expect(csvHeader).toContain(',CocDataGroup.Variant,CocDataGroup.Type');
  });

  for (const format of ['xlsx', 'csv', 'json'] as const) {
    it(`import → export ${format} → import gives the identical draft`, async () => {
      const imported = await read(await workbook());
      const exported = await writeTypeApprovalFile(imported.draft!, format);
      const again = await read(exported, format);
      expect(again.problems).toEqual([]);
      expect(again.draft).toEqual(imported.draft);
      // XLSX carries its creation time; CSV and JSON are the same bytes again.
      if (format !== 'xlsx') expect(await writeTypeApprovalFile(again.draft!, format)).toEqual(exported);
    });
  }
});
