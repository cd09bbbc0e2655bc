import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeTypeApprovalFile } from '../../ivi/type-approvals/files/index.ts';
import type { TypeApprovalDraft } from '../../schemas/ivi/type-approval.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import { specimenApproval } from '../inbox/support.ts';
import { launchBrowser, lowContrastText, screenshot, unlabelledFields, waitForText } from '../support/browser.ts';
import { startConsoleApp, type ConsoleApp } from '../support/console-app.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

const base = specimenApproval();
const [specimenVersion] = base.versions;
const OTHER = `${specimenVersion!.version.slice(0, 30)}-B`;
const MASS = 'CocDataGroup/MassGroup/MassInRunningOrder';
const OLD_MASS = (specimenVersion!.values as { MassGroup: { MassInRunningOrder: number } }).MassGroup.MassInRunningOrder;
// Lighter: the running order mass must stay at or below the actual mass (ivi/rules/masses.ts).
const NEW_MASS = OLD_MASS - 15;
const approval = {
  ...base,
  typeApprovalType: 'EU',
  baseAct: '(EU) 2018/858',
  revision: { extensionNumber: '01', effectiveDate: '2024-01-01', reason: 'master data taken over from the homologation spreadsheet' },
  versions: [specimenVersion!, { ...specimenVersion!, version: OTHER }],
} as TypeApprovalDraft;

let app: ConsoleApp;
let browser: Browser;
let dir: string;
const tokens: Record<string, string> = {};
/** Script errors and CSP violations seen by any page. */
const pageProblems: string[] = [];

beforeAll(async () => {
  [app, browser] = await Promise.all([startConsoleApp(), launchBrowser()]);
  dir = mkdtempSync(join(tmpdir(), 'ecoc-console-ta-'));
  for (const [who, roles] of [
    ['erp', ['integrator']],
    ['rita', ['reviewer']],
    ['hana', ['homologation']],
    ['hugo', ['homologation']],
    ['rel', ['release-manager']],
  ] as const) {
    tokens[who] = await app.key(who, [...roles]);
  }
});
afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  const pages = browser.contexts().flatMap((context) => context.pages());
  await Promise.all(pages.map((page, index) => screenshot(page, `failed-type-approvals-${task.name.replace(/\W+/g, '-').slice(0, 50)}-${index}`)));
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(who: string, hash = '#/dashboard'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) pageProblems.push(`console: ${message.text()}`);
  });
  await page.goto(`${app.url}/console/${hash}`);
  await page.getByLabel('API key or access token').fill(tokens[who]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1 }).filter({ hasNotText: 'Sign in' }).waitFor();
  return page;
}

async function post(who: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

/** A vehicle record with its VIN alone: every other value comes from the approval. */
async function certificateOfApproval(): Promise<{ id: string; vin: string }> {
  const vin = nextVin();
  const id = await app.ingest({ ...specimenRecord(vin), values: { VehicleIdentificationNumber: vin } } as VehicleRecord, tokens.erp!);
  await app.waitForStatus(id, 'in_review', tokens.erp!);
  return { id, vin };
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 });
const refusal = (page: Page) => page.getByRole('alert').filter({ hasText: 'refused' });

describe('type-approval pages of the web console in headless Chromium', () => {
  let approvalUrl: string;
  let inReview: { id: string; vin: string };
  let delivered: { id: string; vin: string };

  it('imports: a file with bad cells shows its problems and stores nothing, a good file becomes a draft', async () => {
    const bad = structuredClone(approval);
    (bad.versions[0]!.values as { MassGroup: Record<string, unknown> }).MassGroup.MassInRunningOrder = 'heavy';
    (bad.versions[1]!.values as { MassGroup: Record<string, unknown> }).MassGroup.MassInRunningOrder = -5;
    writeFileSync(join(dir, 'bad.xlsx'), await writeTypeApprovalFile(bad, 'xlsx'));
    writeFileSync(join(dir, 'approval.xlsx'), await writeTypeApprovalFile(approval, 'xlsx'));

    const hana = await open('hana');
    await hana.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Type approvals' }).click();
    await waitForText(hana.getByRole('status'), /No type approvals match/);
    await hana.getByLabel('Approval file').setInputFiles(join(dir, 'bad.xlsx'));
    await hana.getByRole('button', { name: 'Import' }).click();
    expect(await waitForText(hana.locator('.import-result [role=alert]'), /nothing was stored/)).toMatch(/^bad\.xlsx: 2 problems; nothing was stored\.$/);
    const problems = hana.locator('.import-result table').first();
    const rows = await problems.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.replace(/\s+/g, ' ')).toMatch(new RegExp(`^Versions \\d+ [A-Z]+ ${MASS} .+`));
    expect(await unlabelledFields(hana)).toEqual([]);
    expect(await lowContrastText(hana)).toEqual([]);
    await screenshot(hana, 'type-approval-import-problems');
    await hana.reload();
    await waitForText(hana.getByRole('status'), /No type approvals match/);

    await hana.getByLabel('Approval file').setInputFiles(join(dir, 'approval.xlsx'));
    await hana.getByRole('button', { name: 'Import' }).click();
    expect(await waitForText(hana.locator('.import-result .flash'), /saved as draft/)).toMatch(new RegExp(`approval\\.xlsx saved as draft revision 1 of ${approval.number.replace(/\*/g, '\\*')}, 2 versions\\.`));
    await hana.getByRole('link', { name: 'Open the draft' }).click();
    await waitForText(heading(hana), /revision 1 draft/);
    approvalUrl = hana.url();
    await hana.context().close();
  }, 60_000);

  it('the drafter’s publish is refused as four-eyes, plainly; a second person publishes', async () => {
    const hana = await open('hana', new URL(approvalUrl).hash);
    await waitForText(heading(hana), /revision 1 draft/);
    expect(await hana.locator('section', { has: hana.getByRole('heading', { name: 'Revisions' }) }).innerText()).toMatch(/1\s+01\s+draft\s+2024-01-01\s+master data taken over/);
    expect(await hana.getByRole('row', { name: new RegExp(`Mass › Mass in running order`) }).innerText()).toMatch(new RegExp(`${MASS}\\s+${OLD_MASS}`));
    await hana.getByRole('button', { name: 'Publish revision 1' }).click();
    expect(await waitForText(refusal(hana), /four_eyes/)).toMatch(/^Publish revision 1 refused \(HTTP 403, four_eyes\): hana drafted revision 1 of .* cannot also publish it/);
    expect(await unlabelledFields(hana)).toEqual([]);
    expect(await lowContrastText(hana)).toEqual([]);
    await screenshot(hana, 'type-approval-four-eyes');
    await hana.context().close();

    const hugo = await open('hugo', new URL(approvalUrl).hash);
    await hugo.getByRole('button', { name: 'Publish revision 1' }).click();
    expect(await waitForText(hugo.locator('.flash'), /Published/)).toMatch(/^Published revision 1 by hugo; its change impact runs as workflow /);
    await waitForText(heading(hugo), /revision 1 published/);
    await hugo.context().close();
  }, 60_000);

  it('a certificate composed from the approval links the revision and version its data came from', async () => {
    [inReview, delivered] = await Promise.all([certificateOfApproval(), certificateOfApproval()]);
    // One of them delivered, so the next revision has a correction candidate.
    await post('rita', `/api/v1/certificates/${delivered.id}/approve`, { dataVersion: 1 });
    await app.waitForStatus(delivered.id, 'awaiting_release', tokens.erp!);
    await post('rel', `/api/v1/certificates/${delivered.id}/release-now`);
    const hana = await open('hana', `#/certificates/${inReview.id}`);
    await waitForText(heading(hana), new RegExp(`${inReview.vin}.*in review`));
    const masses = hana.locator('.coc-section', { has: hana.getByRole('heading', { name: /^Masses/ }) });
    expect(await masses.getByRole('row', { name: /Mass › Mass in running order/ }).innerText()).toMatch(new RegExp(`${OLD_MASS}\\s+Type approval`));
    await hana.locator('.facts').getByRole('link', { name: 'revision 1 (extension 01)' }).click();
    await waitForText(heading(hana), /revision 1 published/);
    const shown = new URLSearchParams(new URL(hana.url()).hash.split('?')[1]);
    expect([shown.get('variant'), shown.get('version')]).toEqual([specimenVersion!.variant, specimenVersion!.version]);
    expect(await hana.locator('strong[aria-current]').allInnerTexts()).toEqual(['1', specimenVersion!.version]);
    await app.waitForStatus(delivered.id, 'acknowledged', tokens.erp!);
    await hana.context().close();
  }, 120_000);

  it('a draft changes one value (the IVI type checked plainly), the diff names it, and the impact page shows what publishing did', async () => {
    const hana = await open('hana', new URL(approvalUrl).hash);
    await hana.getByLabel('Extension number').fill('02');
    await hana.getByLabel('Effective from').fill('2024-06-01');
    await hana.getByLabel('Reason').fill('mass in running order re-measured');
    await hana.getByRole('button', { name: 'Open a draft' }).click();
    expect(await waitForText(hana.locator('.flash'), /Draft revision 2/)).toMatch(/^Draft revision 2 opened/);
    await waitForText(heading(hana), /revision 2 draft/);

    await hana.getByRole('button', { name: 'Change Mass › Mass in running order' }).click();
    expect(await hana.getByLabel('Field path').inputValue()).toBe(MASS);
    await hana.getByLabel('New value').fill('heavy');
    await hana.getByRole('button', { name: 'Save value' }).click();
    expect(await waitForText(refusal(hana), /Save value refused/)).toMatch(new RegExp(`^Save value refused \\(HTTP 400, invalid_request\\): ${MASS}: .+`));
    await screenshot(hana, 'type-approval-value-refused');
    await hana.getByLabel('New value').fill(String(NEW_MASS));
    await hana.getByRole('button', { name: 'Save value' }).click();
    expect(await waitForText(hana.locator('.flash'), /Saved/)).toBe(`Saved ${MASS} = ${NEW_MASS} for ${specimenVersion!.version}.`);
    const diff = await waitForText(hana.locator('.diff'), new RegExp(MASS));
    expect(diff).toMatch(new RegExp(`From revision 1 to revision 2\\. .*${specimenVersion!.version.replace(/[()]/g, '\\$&')} changed ${MASS} ${OLD_MASS} ${NEW_MASS}`));
    expect(await unlabelledFields(hana)).toEqual([]);
    expect(await lowContrastText(hana)).toEqual([]);
    await screenshot(hana, 'type-approval-draft-diff');
    const draftUrl = hana.url();
    await hana.context().close();

    const hugo = await open('hugo', new URL(draftUrl).hash);
    await hugo.getByRole('button', { name: 'Publish revision 2' }).click();
    await waitForText(hugo.locator('.flash'), /^Published revision 2 by hugo/);
    await hugo.getByRole('link', { name: 'Impact of revision 2' }).click();
    await waitForText(heading(hugo), /Impact of revision 2 of/);
    // The page follows the workflow until it completed.
    await waitForText(hugo.locator('.workflow-status'), /^completed$/, 60_000);
    const counts = await hugo.locator('.impact-counts').innerText();
    expect(counts).toMatch(/composed again\s+1/);
    expect(counts).toMatch(/correction candidate\s+1/);
    const row = (vin: string) => hugo.getByRole('row', { name: new RegExp(vin) });
    expect((await row(delivered.vin).innerText()).replace(/\s+/g, ' ')).toMatch(new RegExp(`acknowledged acknowledged correction candidate — ${MASS}: ${OLD_MASS} → ${NEW_MASS}`));
    expect((await row(inReview.vin).innerText()).replace(/\s+/g, ' ')).toMatch(new RegExp(`in review .* composed again 2 ${MASS}: ${OLD_MASS} → ${NEW_MASS}`));
    // Homologation may issue the corrections too; here a release manager does.
    expect(await hugo.getByRole('button', { name: /Issue corrections/ }).count()).toBe(1);
    await screenshot(hugo, 'type-approval-impact');
    const impactUrl = hugo.url();
    await hugo.context().close();

    const rita = await open('rita', new URL(impactUrl).hash);
    await waitForText(heading(rita), /Impact of revision 2/);
    expect(await rita.getByRole('button', { name: /Issue corrections/ }).count()).toBe(0);
    await rita.context().close();

    const rel = await open('rel', new URL(impactUrl).hash);
    await rel.getByRole('button', { name: 'Issue corrections for 1 delivered certificate' }).click();
    expect(await waitForText(rel.locator('.flash'), /Corrections started/)).toMatch(/^Corrections started for 1 certificate \(workflow .+\): each gets a new message version through the normal review\.$/);
    await app.waitForStatus(delivered.id, 'in_review', tokens.erp!);

    // The dashboard card: one row per approval, its certificates and how many are delivered.
    await rel.getByRole('link', { name: 'Dashboard' }).click();
    const card = rel.locator('section', { has: rel.getByRole('heading', { name: 'Type approvals' }) });
    expect((await waitForText(card, new RegExp(approval.number.replace(/\*/g, '\\*')))).replace(/\s+/g, ' ')).toMatch(/acme 2 0 0 2$/);
    expect(await lowContrastText(rel)).toEqual([]);
    await rel.context().close();
  }, 180_000);

  it('ran without script errors or CSP violations', () => {
    expect(pageProblems).toEqual([]);
  });
});
