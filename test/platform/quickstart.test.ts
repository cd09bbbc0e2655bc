import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { launchBrowser, screenshot, waitForText } from '../support/browser.ts';
import { embeddedStackEnv, REPO_ROOT, runCli, type RunningCli } from '../support/processes.ts';

/** One `curl` of the README quickstart: what the test sends with fetch. */
interface Curl {
  method: string;
  path: string;
  keyVariable: string;
  body?: unknown;
  /** `> file`: the answer is saved for the shell lines after it. */
  savedAs?: string;
}

/**
 * The README's quickstart section is the script: its code blocks' `curl` lines give method, path,
 * key and JSON body, its other shell lines (openssl, xmlsec1) run as written. So the README and
 * this test cannot drift apart.
 */
function quickstart(): { curls: Curl[]; shell: string[] } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = /\n## Quickstart[^\n]*\n([\s\S]*?)\n## /.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Quickstart" section');
  const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.split('\n').filter(Boolean));
  const curls = lines
    .filter((line) => line.startsWith('curl '))
    .map((line): Curl => {
      const path = /\$API(\/\S+)/.exec(line)?.[1];
      const keyVariable = /Bearer \$(\w+)/.exec(line)?.[1];
      if (!path || !keyVariable) throw new Error(`README quickstart: cannot read ${line}`);
      const body = /-d '([^']*)'/.exec(line)?.[1];
      const savedAs = /> (\S+)$/.exec(line)?.[1];
      return { method: /-X (\w+)/.exec(line)?.[1] ?? 'GET', path, keyVariable, ...(body ? { body: JSON.parse(body) as unknown } : {}), ...(savedAs ? { savedAs } : {}) };
    });
  const shell = lines.filter((line) => /^(openssl|xmlsec1) /.test(line));
  return { curls, shell };
}

describe('README quickstart against `ecoc start` on a fresh data directory', () => {
  let dataDir: string;
  let workDir: string;
  let env: Record<string, string>;
  let api: string;
  let stack: RunningCli;
  let browser: Browser | undefined;
  let demo: { keys: Record<string, string>; certificates: Record<string, number> };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-quickstart-'));
    chmodSync(dataDir, 0o755);
    workDir = mkdtempSync(join(tmpdir(), 'ecoc-quickstart-shell-'));
    const embedded = await embeddedStackEnv(dataDir, inject('temporalCliPath'));
    env = embedded.env;
    const { ports } = embedded;
    api = `http://127.0.0.1:${ports.api}`;
    stack = runCli(['start'], env);
    let exited: number | string | undefined;
    void stack.exited.then((code) => (exited = code));
    await waitFor(async () => (await fetch(`${api}/readyz`)).status === 200, { timeoutMs: 240_000, what: 'the stack', fatal: () => exited !== undefined });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (stack) {
      stack.child.kill('SIGINT');
      await stack.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }, 120_000);

  it('runs the five steps: demo keys, a 6-field vehicle, four-eyes approval, release now, signed XML verified by xmlsec1 and the receipt', async () => {
    const { curls, shell } = quickstart();
    expect(curls.map((curl) => `${curl.method} ${curl.path.replace(/ecoc-[^/]+/, ':id')}`)).toEqual([
      'POST /api/v1/vehicles',
      'POST /api/v1/certificates/:id/approve',
      'POST /api/v1/certificates/:id/release-now',
      'GET /api/v1/certificates/:id/message',
      'GET /api/v1/certificates/:id/receipts',
    ]);
    const [ingest, approve, release, message, receipts] = curls as [Curl, Curl, Curl, Curl, Curl];

    // 1. `ecoc demo` prints its result as JSON on stdout (the README saves it as demo.json).
    const loaded = runCli(['demo'], env);
    expect(await loaded.exited, loaded.output()).toBe(0);
    const output = loaded.output();
    demo = JSON.parse(output.slice(output.indexOf('{\n'), output.lastIndexOf('\n}') + 2)) as typeof demo;
    // Six were released; a certificate row may still say delivering for a moment after its workflow was acknowledged.
    const { delivering = 0, delivered = 0, acknowledged = 0, ...held } = demo.certificates;
    expect(held).toEqual({ blocked: 5, in_review: 8, rejected: 2, awaiting_release: 4 });
    expect(delivering + delivered + acknowledged).toBe(6);
    const keys: Record<string, string> = { INTEGRATOR: demo.keys.integrator!, REVIEWER: demo.keys.reviewer!, RELEASE_MANAGER: demo.keys['release-manager']! };
    const call = async (curl: Curl) => {
      const response = await fetch(`${api}${curl.path}`, {
        method: curl.method,
        headers: { authorization: `Bearer ${keys[curl.keyVariable]}`, ...(curl.body ? { 'content-type': 'application/json' } : {}) },
        ...(curl.body ? { body: JSON.stringify(curl.body) } : {}),
      });
      return { status: response.status, text: await response.text() };
    };
    const statusOf = async (id: string) => {
      const response = await fetch(`${api}/api/v1/certificates/${id}/status`, { headers: { authorization: `Bearer ${keys.INTEGRATOR}` } });
      return ((await response.json()) as { status: string }).status;
    };

    // 2. The vehicle: 6 fields and its destination; the template lists nothing else as missing but the VIN.
    const record = ingest.body as { manufacturerId: string; typeApprovalNumber: string; variant: string; version: string };
    expect(Object.keys(record)).toHaveLength(7);
    const template = await fetch(
      `${api}/api/v1/vehicles/template?${new URLSearchParams({ manufacturerId: record.manufacturerId, typeApprovalNumber: record.typeApprovalNumber, variant: record.variant, version: record.version })}`,
      { headers: { authorization: `Bearer ${keys.INTEGRATOR}` } },
    );
    expect(template.status).toBe(200);
    const templateBody = (await template.json()) as { missing: { path: string }[]; example: Record<string, unknown> };
    expect(templateBody.missing.map((field) => field.path)).toEqual(['CocDataGroup/VehicleIdentificationNumber']);
    expect(templateBody.example).toMatchObject({ ...record, vin: expect.any(String), destination: 'nap-simulator' });
    const created = await call(ingest);
    expect(created.status, created.text).toBe(201);
    const { certificateId, status } = JSON.parse(created.text) as { certificateId: string; status: string };
    // The answer shows the workflow as it was then: validating, or received a moment before.
    expect(['received', 'validating']).toContain(status);
    expect(approve.path).toContain(certificateId);
    await waitFor(async () => (await statusOf(certificateId)) === 'in_review', { timeoutMs: 120_000, what: 'the quickstart vehicle in review' });

    // 3. Four eyes: the reviewer approves what the integrator sent.
    const approved = await call(approve);
    expect(approved.status, approved.text).toBe(200);
    expect(JSON.parse(approved.text)).toMatchObject({ state: { status: 'approved' } });
    await waitFor(async () => (await statusOf(certificateId)) === 'awaiting_release', { timeoutMs: 120_000, what: 'signed, awaiting release' });

    // 4. Release now; the NAP simulator acknowledges.
    const released = await call(release);
    expect(released.status, released.text).toBe(200);
    expect(JSON.parse(released.text)).toMatchObject({ state: { status: 'awaiting_release' } });
    await waitFor(async () => (await statusOf(certificateId)) === 'acknowledged', { timeoutMs: 120_000, what: 'acknowledged by the NAP simulator' });

    // 5. The signed XML, verified by the README's own openssl and xmlsec1 lines; then the receipt.
    const xml = await call(message);
    expect(xml.status).toBe(200);
    writeFileSync(join(workDir, message.savedAs!), xml.text);
    const verified = shell.map((line) => execFileSync('bash', ['-c', `${line.replace(/\.data\//g, `${env.ECOC_DATA_DIR}/`)} 2>&1`], { cwd: workDir, encoding: 'utf8' })).join('');
    expect(verified).toMatch(/^OK$/m);
    expect(verified).toMatch(/SignedInfo References \(ok\/all\): 1\/1/);
    const receiptList = await call(receipts);
    expect(receiptList.status).toBe(200);
    expect((JSON.parse(receiptList.text) as { receipts: { destination: string; acknowledgedAt: string | null }[] }).receipts).toEqual([
      expect.objectContaining({ destination: 'nap-simulator', acknowledgedAt: expect.any(String) }),
    ]);
  }, 600_000);

  it('shows the demo data on the console dashboard (Chromium)', async () => {
    browser = await launchBrowser();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${api}/console/`);
    await page.getByLabel('API key or access token').fill(demo.keys.admin!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const tile = (label: string) => page.locator('.tile', { hasText: label }).locator('.tile-value');
    await waitForText(tile('Blocked'), /^5$/);
    await waitForText(tile('In review'), /^8$/);
    await waitForText(tile('Ready to release'), /^4$/);
    // The state table per manufacturer and destination: the demo's 6 delivered vehicles and the quickstart's one.
    for (const [count, status] of [
      [5, 'blocked'],
      [8, 'in review'],
      [2, 'rejected'],
      [4, 'awaiting release'],
      [7, 'acknowledged'],
    ] as const) {
      await page.getByLabel(`${count} ${status} for demo-motors to nap-simulator`).waitFor();
    }
    await screenshot(page, 'quickstart-dashboard-after-demo');
  }, 120_000);
});
