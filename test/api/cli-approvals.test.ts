import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTypeApprovalFile, writeTypeApprovalFile } from '../../ivi/type-approvals/files/index.ts';
import type { TypeApprovalDraft } from '../../schemas/ivi/type-approval.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';

const run = promisify(execFile);
const ECOC = new URL('../../cli/ecoc.js', import.meta.url).pathname;

const draft: TypeApprovalDraft = {
  manufacturerId: 'acme',
  number: 'e6*2018/858*09871*00',
  issueDate: '2024-02-01',
  typeApprovalType: 'EU',
  vehicleCategory: 'M1',
  approvalCountry: 'e6',
  type: 'CLI1',
  revision: { extensionNumber: '00', effectiveDate: '2024-03-01', reason: 'original approval' },
  versions: [
    { variant: 'A', version: 'A-1', values: { MassGroup: { MassInRunningOrder: 1500 } } },
    { variant: 'A', version: 'A-2', values: { MassGroup: { MassInRunningOrder: 1550 }, AxleTable: { AxleGroup: [{ AxleTrack: 1600 }, { AxleTrack: 1610 }] } } },
  ],
};

/** `ecoc approvals …` as a real process against the real API: import, list, show, export, diff, four-eyes publish (each call starts tsx: minutes on a busy machine). */
describe('ecoc approvals', { timeout: 600_000 }, () => {
  let h: ApiHarness;
  let dir: string;
  let tokens: { drafter: string; publisher: string };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI prints the API's JSON
  const ecoc = async (token: string, ...args: string[]): Promise<{ code: number; answer: any }> => {
    const env = { ...process.env, ECOC_API_URL: h.url, ECOC_API_TOKEN: token, ECOC_LOG_LEVEL: 'warn' };
    const result = await run(process.execPath, [ECOC, 'approvals', ...args], { env, cwd: dir }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout || error.stderr }),
    );
    return { code: result.code, answer: JSON.parse(result.stdout) };
  };

  beforeAll(async () => {
    h = await startApiHarness();
    dir = mkdtempSync(join(tmpdir(), 'ecoc-approvals-cli-'));
    tokens = { drafter: await h.key('homologation-anna', ['homologation']), publisher: await h.key('homologation-ben', ['homologation']) };
  });
  afterAll(async () => {
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports an XLSX, lists, shows and exports it (the export reads back to the same draft), and publishes only by someone else', async () => {
    writeFileSync(join(dir, 'approval.xlsx'), await writeTypeApprovalFile(draft, 'xlsx'));
    const imported = await ecoc(tokens.drafter, 'import', 'approval.xlsx');
    expect(imported).toMatchObject({ code: 0, answer: { status: 'saved', problems: [], number: draft.number, versions: 2, draft: { created: true } } });
    const { typeApprovalId, revisionId } = imported.answer.draft as { typeApprovalId: string; revisionId: string };

    const listed = await ecoc(tokens.drafter, 'list', '--search', '09871');
    expect(listed.answer.approvals).toEqual([expect.objectContaining({ id: typeApprovalId, number: draft.number, draft: expect.objectContaining({ id: revisionId }) })]);
    const shown = await ecoc(tokens.drafter, 'show', typeApprovalId);
    expect(shown.answer).toMatchObject({ id: typeApprovalId, revisions: [{ id: revisionId, status: 'draft' }] });

    const exported = await ecoc(tokens.drafter, 'export', revisionId, '--format', 'csv', '--out', 'back.csv');
    expect(exported.answer).toMatchObject({ file: 'back.csv', contentType: expect.stringContaining('text/csv') });
    expect((await readTypeApprovalFile(readFileSync(join(dir, 'back.csv')), 'csv', { manufacturerId: 'acme' })).draft).toEqual(draft);

    const diff = await ecoc(tokens.drafter, 'diff', revisionId);
    expect(diff.code).toBe(0);
    expect(diff.answer.versions.map((version: { version: string; change: string }) => [version.version, version.change])).toEqual([
      ['A-1', 'added'],
      ['A-2', 'added'],
    ]);

    const own = await ecoc(tokens.drafter, 'publish', revisionId);
    expect(own).toMatchObject({ code: 1, answer: { status: 403 } });
    const published = await ecoc(tokens.publisher, 'publish', revisionId);
    expect(published).toMatchObject({ code: 0, answer: { revision: { id: revisionId, status: 'published', publishedBy: 'homologation-ben' } } });
  });

  it('prints the problems of a bad file with sheet, row and column, stores nothing and exits 1', async () => {
    const csv = new TextDecoder().decode(await writeTypeApprovalFile({ ...draft, number: 'e6*2018/858*09872*00' }, 'csv')).replace(',1550,', ',heavy,');
    writeFileSync(join(dir, 'bad.csv'), csv);
    const result = await ecoc(tokens.drafter, 'import', 'bad.csv');
    expect(result.code).toBe(1);
    expect(result.answer).toMatchObject({ status: 422, answer: { status: 'rejected', problems: [{ row: 3, column: 'L', field: 'CocDataGroup/MassGroup/MassInRunningOrder' }] } });
    expect((await ecoc(tokens.drafter, 'list', '--search', '09872')).answer.approvals).toEqual([]);
  });
});
