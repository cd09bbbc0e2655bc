import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvRows } from '../../api/csv.ts';
import { readTypeApprovalFile, writeTypeApprovalFile } from '../../ivi/type-approvals/files/index.ts';
import { unescapeFormula } from '../../platform/csv.ts';
import type { TypeApprovalDraft } from '../../schemas/ivi/type-approval.ts';
import { createFuzz, fuzzCount, type Fuzz } from '../support/fuzz.ts';

/** What a spreadsheet runs as a formula when a cell starts with it (OWASP CSV injection, with the full-width forms). */
const DANGEROUS = ['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'];
const PAYLOADS = ["=cmd|' /C calc'!A0", '+SUM(A1:A9)', '-2+3', '@import', '=HYPERLINK("http://x","y")', '\t=1', '\r=1', '＝1+1', "'=already", "''+twice", "'", "'plain"];
const ALPHABET = [...DANGEROUS, "'", '"', ',', ';', '\n', ' ', 'a', 'Z', '0', 'é', '🚚', '\u200B'];

function hostileText(fuzz: Fuzz): string {
  if (fuzz.chance(0.3)) return fuzz.pick(PAYLOADS);
  return Array.from({ length: fuzz.int(12) }, () => fuzz.pick(ALPHABET)).join('');
}

/** Every cell of a parsed CSV that a spreadsheet would run. */
const formulaCells = (cells: string[][]) => cells.flat().filter((cell) => DANGEROUS.includes(cell[0] ?? ''));

describe('CSV injection on the way out', () => {
  it('the export writer leaves no cell starting with a formula character, quotes the escaped ones, and loses nothing', () => {
    const fuzz = createFuzz('csv-injection export');
    const columns = ['vin', 'owner', 'variant', 'detail', 'at', 'count'];
    const rows = Array.from({ length: fuzzCount(10_000) }, () => ({
      vin: hostileText(fuzz),
      owner: hostileText(fuzz),
      variant: hostileText(fuzz),
      detail: { note: hostileText(fuzz) },
      at: new Date(0),
      count: fuzz.int(200) - 100,
    }));
    const text = csvRows(rows, columns, true);
    const parsed = parse(text, { relax_column_count: false }) as string[][];
    const [header, ...cells] = parsed;
    expect(header).toEqual(columns);
    expect(cells).toHaveLength(rows.length);
    // Numbers are data, not formulas: `-5` stays a number.
    expect(formulaCells(cells.map((row) => row.slice(0, 4))), fuzz.say('cells a spreadsheet would run')).toEqual([]);
    const lost = rows.flatMap((row, i) => (['vin', 'owner', 'variant'] as const).filter((key) => unescapeFormula(cells[i]![columns.indexOf(key)]!) !== row[key]).map((key) => `row ${i + 1} ${key}: ${JSON.stringify(row[key])}`));
    expect(lost, fuzz.say('values changed beyond the escape')).toEqual([]);
    // Each escaped cell is quoted as well, so no reader splits or trims it away from its quote.
    for (const payload of PAYLOADS) {
      const line = csvRows([{ v: payload }], ['v'], false);
      if (payload !== unescapeFormula(`'${payload}`)) continue;
      expect(line, payload).toMatch(/^"'/);
    }
  });

  it('type-approval CSV: hostile values are escaped in the file and import → export → import gives them back exactly', async () => {
    const fuzz = createFuzz('csv-injection type-approval');
    const draft: TypeApprovalDraft = {
      manufacturerId: 'toyota',
      number: 'e6*2018/858*00264*01',
      baseAct: '(EU) 2018/858',
      issueDate: '2023-11-24',
      typeApprovalType: 'EU',
      vehicleCategory: 'M1',
      approvalCountry: 'e6',
      type: 'EBM1(M)',
      revision: { extensionNumber: '01', effectiveDate: '2024-01-01', reason: '=cmd|\' /C calc\'!A0' },
      versions: [...PAYLOADS.map((payload) => payload.trim()), ...Array.from({ length: 40 }, () => hostileText(fuzz).trim())]
        .filter((make) => make !== '' && !make.includes('\n') && !make.includes('\r'))
        .map((make, index) => ({ variant: `V${index}`, version: '-1', values: { MakeTable: { MakeGroup: [{ Make: make }] }, MassGroup: { MassInRunningOrder: 2050 } } })),
    };
    const exported = await writeTypeApprovalFile(draft, 'csv');
    const cells = parse(new TextDecoder().decode(exported)) as string[][];
    expect(formulaCells(cells), fuzz.say('cells a spreadsheet would run')).toEqual([]);
    const again = await readTypeApprovalFile(exported, 'csv', { manufacturerId: 'toyota' });
    expect(again.problems, fuzz.say('problems reading the export back')).toEqual([]);
    expect(again.draft, fuzz.say('the draft read back')).toEqual(draft);
    expect(await writeTypeApprovalFile(again.draft!, 'csv')).toEqual(exported);
  });
});
