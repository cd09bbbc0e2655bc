import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiKey } from '../../auth/api-keys.ts';
import { freePort } from '../../platform/ports.ts';
import { PREBUILT_WORKFLOW_BUNDLE } from '../../platform/temporal/bundle.ts';
import { waitFor } from '../../platform/wait.ts';
import { nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { exitOf, REPO_ROOT } from '../support/processes.ts';

/** Every file under `dir` whose name ends with `suffix`, skipping node_modules. */
function filesEndingWith(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesEndingWith(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

/**
 * The production image's start path (Dockerfile): the sources compiled next to themselves with
 * tsconfig.build.json and the pre-built workflow bundle. To prove nothing is transpiled at start,
 * the copy keeps no TypeScript at all; `ecoc start` (worker and API) then takes a certificate
 * through validation, review and signing on the signing pool's threads.
 */
describe('the compiled application (as the image runs it)', () => {
  let h: LifecycleHarness;
  let dir: string;

  beforeAll(async () => {
    h = await startLifecycleHarness();
    dir = mkdtempSync(join(tmpdir(), 'ecoc-compiled-'));
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const file of [...tracked, '.generated']) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(dir, file), { recursive: true });
    }
    cpSync(PREBUILT_WORKFLOW_BUNDLE, join(dir, 'dist', 'workflow-bundle.js'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'pipe' });
    for (const source of filesEndingWith(dir, '.ts')) if (!source.endsWith('.d.ts')) unlinkSync(source);
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts without TypeScript and takes a certificate to signed', async () => {
    expect(filesEndingWith(join(dir, 'cli'), '.ts')).toEqual([]);
    const apiPort = await freePort();
    const child = spawn(process.execPath, ['cli/ecoc.js', 'start'], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATABASE_URL: h.databaseUrl,
        ECOC_TASK_QUEUE: `compiled-${Date.now()}`,
        ECOC_DATA_DIR: h.config.ECOC_DATA_DIR,
        ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
        ECOC_WORKFLOW_BUNDLE: join(dir, 'dist', 'workflow-bundle.js'),
        ECOC_API_HOST: '127.0.0.1',
        ECOC_API_PORT: String(apiPort),
        ECOC_SIGNING_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = exitOf(child);
    try {
      const stopped = () => child.exitCode !== null || child.signalCode !== null;
      await waitFor(async () => output.includes('"worker polling"') && (await fetch(`http://127.0.0.1:${apiPort}/readyz`).then((r) => r.status === 200, () => false)), {
        timeoutMs: 120_000,
        what: 'the compiled ecoc start (worker polling, API ready)',
        fatal: stopped,
      }).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
      });
      const call = async (token: string, path: string, body: unknown) => {
        const response = await fetch(`http://127.0.0.1:${apiPort}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: response.status, json: (await response.json()) as Record<string, unknown> };
      };
      const erp = await createApiKey(h.db, { subject: 'erp-feed', roles: ['integrator'], manufacturers: ['acme'], createdBy: 'test' });
      const reviewer = await createApiKey(h.db, { subject: 'rita', roles: ['reviewer'], manufacturers: ['acme'], createdBy: 'test' });
      const ingested = await call(erp.token, '/api/v1/vehicles', specimenRecord(nextVin()));
      expect(ingested.status, JSON.stringify(ingested.json)).toBe(201);
      const certificateId = ingested.json.certificateId as string;
      await h.waitForStatus(certificateId, 'in_review', 60_000);
      const approved = await call(reviewer.token, `/api/v1/certificates/${certificateId}/approve`, { dataVersion: 1 });
      expect(approved.status, JSON.stringify(approved.json)).toBe(200);
      const signed = await h.waitForStatus(certificateId, 'awaiting_release', 60_000);
      expect(signed.signature?.documentHash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(output).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|Cannot find module/);
  }, 240_000);
});
