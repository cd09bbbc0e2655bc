import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, lowContrastText, screenshot, unlabelledFields, waitForText } from '../support/browser.ts';
import { startConsoleApp, type ConsoleApp } from '../support/console-app.ts';
import { NAP_DESTINATION, nextVin, specimenRecord } from '../support/specimen.ts';

let app: ConsoleApp;
let browser: Browser;
let erp: string;
/** Script errors and CSP violations seen by any page: the console must run clean under its policy. */
const pageProblems: string[] = [];

beforeAll(async () => {
  [app, browser] = await Promise.all([startConsoleApp(), launchBrowser()]);
  erp = await app.key('erp-feed', ['integrator']);
});
afterEach(async ({ task }) => {
  // A failed test leaves its pages open: keep what they showed.
  if (task.result?.state !== 'fail') return;
  const pages = browser.contexts().flatMap((context) => context.pages());
  await Promise.all(pages.map((page, index) => screenshot(page, `failed-${task.name.replace(/\W+/g, '-').slice(0, 60)}-${index}`)));
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function open(token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) pageProblems.push(`console: ${message.text()}`);
  });
  await page.goto(`${app.url}/`);
  await page.getByLabel('API key or access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  return page;
}

/** A certificate waiting in review, ingested through the API by the ERP integration. */
async function certificateInReview(): Promise<{ id: string; vin: string }> {
  const vin = nextVin();
  const id = await app.ingest(specimenRecord(vin), erp);
  await app.waitForStatus(id, 'in_review', erp);
  return { id, vin };
}

const heading = (page: Page) => page.getByRole('heading', { level: 1 });

describe('web console in headless Chromium', () => {
  let approved: { id: string; vin: string };

  it('serves the console with its own CSP and cache headers, and documents its API routes', async () => {
    const root = await fetch(`${app.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const index = await fetch(`${app.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const html = await index.text();
    const script = /src="(\/console\/assets\/main\.[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${app.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    const bytes = (await asset.arrayBuffer()).byteLength;
    console.log(`console bundle: ${script} ${bytes} bytes`);
    expect(bytes).toBeLessThan(100_000);
    const again = await fetch(`${app.url}${script}`, { headers: { 'if-none-match': asset.headers.get('etag')!, 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);
    expect((await fetch(`${app.url}/console/assets/main.NOPE.js`)).status).toBe(404);

    const openapi = (await (await fetch(`${app.url}/openapi.json`, { headers: { authorization: `Bearer ${erp}` } })).json()) as { paths: Record<string, unknown> };
    for (const path of ['/api/v1/console/dashboard', '/api/v1/console/queue', '/api/v1/console/settings', '/api/v1/certificates/{certificateId}/diff', '/api/v1/certificates/{certificateId}/versions', '/api/v1/certificates/{certificateId}/receipts']) {
      expect(openapi.paths).toHaveProperty([path]);
    }
  });

  it('refuses a wrong key at sign-in and says why', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/console/`);
    await page.getByLabel('API key or access token').fill('ecoc_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await waitForText(page.getByRole('alert'), /Sign-in refused/)).toMatch(/the API key is not known/);
    expect(await unlabelledFields(page)).toEqual([]);
    await context.close();
  });

  it('a reviewer signs in, finds a certificate in review, opens it, approves it and sees the state change', async () => {
    const { id, vin } = await certificateInReview();
    approved = { id, vin };
    const page = await open(await app.key('rita', ['reviewer']));

    // Dashboard: the certificate is in the backlog and counted in review.
    const backlog = page.locator('section', { has: page.getByRole('heading', { name: 'Review backlog' }) });
    await backlog.getByRole('link', { name: vin }).waitFor();
    expect(await page.locator('.tile', { hasText: 'In review' }).locator('.tile-value').innerText()).toMatch(/^[1-9]\d*$/);
    expect(await page.locator('.tile', { hasText: 'Signing certificate' }).innerText()).toMatch(/days/);
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrastText(page)).toEqual([]);
    await screenshot(page, 'dashboard');

    // My reviews, filtered by VIN.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My reviews' }).click();
    await heading(page).filter({ hasText: 'My reviews' }).waitFor();
    await page.getByLabel('VIN').fill(vin.slice(3, 14));
    await page.getByRole('button', { name: 'Filter' }).click();
    await waitForText(page.getByRole('status'), /^1 certificate match/);
    const row = page.getByRole('row', { name: new RegExp(vin) });
    expect(await row.getByRole('link', { name: /Workflow of .* in the Temporal UI/ }).getAttribute('href')).toBe(`${app.temporalUiUrl}/namespaces/default/workflows/${id}`);
    expect(await unlabelledFields(page)).toEqual([]);
    await screenshot(page, 'queue-my-reviews');
    await row.getByRole('link', { name: vin, exact: true }).click();

    // The certificate page: CoC layout with sources, then approve.
    await waitForText(heading(page), new RegExp(`${vin}.*in review`));
    const masses = page.locator('.coc-section', { has: page.getByRole('heading', { name: /^Masses/ }) });
    const actualMass = masses.getByRole('row', { name: /Mass › Actual mass/ });
    expect(await actualMass.innerText()).toMatch(/2184\s+API/);
    expect(await page.locator('.coc-section', { has: page.getByRole('heading', { name: /^Vehicle identification/ }) }).getByRole('row', { name: /Vehicle identification number/ }).innerText()).toMatch(new RegExp(`0\\.10\\s+Vehicle identification number\\s+${vin}`));
    expect(await page.getByRole('link', { name: new RegExp(`${id} in the Temporal UI`) }).getAttribute('href')).toBe(`${app.temporalUiUrl}/namespaces/default/workflows/${id}`);
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrastText(page)).toEqual([]);
    await screenshot(page, 'certificate-in-review');

    await page.getByRole('button', { name: 'Approve data version 1' }).click();
    expect(await waitForText(page.locator('.flash'), /Approved data version 1/)).toMatch(/now approved/);
    // The page follows the workflow on its own: signed, then waiting for release.
    await waitForText(heading(page), /awaiting release/);
    expect(await page.locator('.timeline').innerText()).toMatch(/in review → approved · rita/);
    expect(await page.getByRole('button', { name: /Approve/ }).count()).toBe(0);

    // The signed XML, downloaded through the API with the bearer token.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Signed XML v1' }).click()]);
    expect(download.suggestedFilename()).toBe(`${vin}-s1-v1.xml`);
    const xml = readFileSync((await download.path())!, 'utf8');
    expect(xml).toContain(`<VehicleIdentificationNumber>${vin}</VehicleIdentificationNumber>`);
    expect(xml).toMatch(/<(ds:)?SignatureValue>/);
    await screenshot(page, 'certificate-approved');
    await page.context().close();
  }, 180_000);

  it('shows refusals plainly: a stale approval, and four-eyes when a reviewer approves their own correction', async () => {
    const { id, vin } = await certificateInReview();
    const hugo = await open(await app.key('hugo', ['homologation', 'reviewer']));
    const rob = await open(await app.key('rob', ['reviewer']));
    await rob.goto(`${app.url}/console/#/certificates/${id}`);
    await rob.getByRole('button', { name: 'Approve data version 1' }).waitFor();

    // Hugo corrects a field from the data table.
    await hugo.goto(`${app.url}/console/#/certificates/${id}`);
    await waitForText(heading(hugo), new RegExp(`${vin}.*in review`));
    expect(await unlabelledFields(hugo)).toEqual([]); // approve, reject, correct, reassign and withdraw forms are all shown
    await hugo.getByRole('button', { name: 'Correct Mass › Actual mass' }).click();
    expect(await hugo.getByLabel('Field path').inputValue()).toBe('CocDataGroup/MassGroup/ActualMass');
    await hugo.getByLabel('New value').fill('2190');
    await hugo.getByLabel('Reason for the correction').fill('weighed again after the tow bar was fitted');
    await hugo.getByRole('button', { name: 'Correct field' }).click();
    await waitForText(hugo.locator('.flash'), /Correction stored as a new data version/);
    // Validated and generated again, back in review with data version 2.
    await waitForText(hugo.locator('.facts'), /Data version\s+2 \(from correction, by hugo\)/, 60_000);
    await waitForText(heading(hugo), /in review/, 60_000);
    expect(await hugo.getByRole('row', { name: /Mass › Actual mass/ }).first().innerText()).toMatch(/2190\s+Correction by hugo/);
    const diff = await waitForText(hugo.locator('.diff'), /CocDataGroup\/MassGroup\/ActualMass/);
    expect(diff).toMatch(/CocDataGroup\/MassGroup\/ActualMass\s+2184\s+2190\s+Correction by hugo/);

    await hugo.getByRole('button', { name: 'Approve data version 2' }).click();
    const refusal = await waitForText(hugo.getByRole('alert').filter({ hasText: 'refused' }), /four-eyes/);
    expect(refusal).toBe('Approve data version 2 refused (HTTP 403, four_eyes): four-eyes: hugo last changed this data and cannot approve it');
    await screenshot(hugo, 'four-eyes-refusal');

    // Rob's page still shows version 1: the workflow refuses the stale approval.
    await rob.getByRole('button', { name: 'Approve data version 1' }).click();
    expect(await waitForText(rob.getByRole('alert').filter({ hasText: 'refused' }), /stale/)).toMatch(/stale approval: you reviewed data version 1, the current version is 2/);
    await rob.reload();
    await rob.getByRole('button', { name: 'Approve data version 2' }).click();
    await waitForText(rob.locator('.flash'), /Approved data version 2/);
    await hugo.context().close();
    await rob.context().close();
  }, 180_000);

  it('a user scoped to another manufacturer cannot see the certificate', async () => {
    const page = await open(await app.key('olga', ['reviewer', 'homologation'], ['other-maker']));
    expect(await page.locator('.dashboard').innerText()).toMatch(/No certificates yet\./);
    expect(await page.locator('.tile', { hasText: 'In review' }).locator('.tile-value').innerText()).toBe('0');
    await page.goto(`${app.url}/console/#/queue/all?vin=${approved.vin}`);
    await waitForText(page.getByRole('status'), /No certificates match/);
    await page.goto(`${app.url}/console/#/certificates/${approved.id}`);
    await waitForText(heading(page), /Cannot show this page/);
    expect(await page.getByRole('alert').innerText()).toMatch(new RegExp(`Not found: Certificate ${approved.id} was not found`));
    await page.context().close();
  });

  it('keyboard only: sign in, tab to the approve button and press Enter', async () => {
    const { id } = await certificateInReview();
    const token = await app.key('rita-keyboard', ['reviewer']);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${app.url}/console/#/certificates/${id}`);
    // Focus starts on the page heading; the next stop is the key field.
    await heading(page).filter({ hasText: 'Sign in' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('token');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await waitForText(heading(page), /in review/);

    let reached = false;
    for (let stops = 0; stops < 200 && !reached; stops += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => /^Approve data version/.test(document.activeElement?.textContent ?? ''));
    }
    expect(reached).toBe(true);
    // The focused button shows a visible focus ring.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    await waitForText(page.locator('.flash'), /Approved data version 1/);
    await context.close();
  }, 120_000);

  it('a release manager releases from the ready-to-release queue and sees the delivery receipt', async () => {
    const page = await open(await app.key('rel', ['release-manager']));
    expect(await page.locator('section', { has: page.getByRole('heading', { name: 'Releases' }) }).innerText()).toMatch(/release schedules span every manufacturer/);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ready to release' }).click();
    await page.getByLabel('VIN').fill(approved.vin);
    await page.getByRole('button', { name: 'Filter' }).click();
    await waitForText(page.getByRole('status'), /^1 certificate match/);
    await page.getByRole('row', { name: new RegExp(approved.vin) }).getByRole('link', { name: approved.vin, exact: true }).click();
    await page.getByRole('button', { name: 'Release now' }).click();
    await waitForText(page.locator('.flash'), /Release requested/);
    await waitForText(heading(page), /delivered|acknowledged/, 60_000);
    const receipts = await waitForText(page.locator('section', { has: page.getByRole('heading', { name: 'Delivery receipts' }) }), new RegExp(NAP_DESTINATION));
    expect(receipts).toMatch(new RegExp(`${NAP_DESTINATION}\\s+\\S+\\s+\\S+\\s+1`));
    await screenshot(page, 'certificate-delivered');
    await page.context().close();
  }, 120_000);

  it('ran without script errors or CSP violations', () => {
    expect(pageProblems).toEqual([]);
  });
});
