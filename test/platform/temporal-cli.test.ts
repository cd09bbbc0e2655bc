import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveTemporalCli, TemporalCliNotFoundError, TEMPORAL_CLI_VERSION } from '../../platform/temporal/cli-binary.ts';

describe('finding the Temporal CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecoc-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function fakeBinary(path: string): string {
    writeFileSync(path, '#!/bin/sh\necho temporal\n');
    chmodSync(path, 0o755);
    return path;
  }

  it('prefers TEMPORAL_CLI_PATH', async () => {
    const explicit = fakeBinary(join(dir, 'my-temporal'));
    expect(await resolveTemporalCli({ explicitPath: explicit, cacheDir: dir, env: { PATH: '' } })).toBe(explicit);
  });

  it('then looks on PATH', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const onPath = fakeBinary(join(bin, 'temporal'));
    expect(await resolveTemporalCli({ cacheDir: dir, env: { PATH: bin } })).toBe(onPath);
  });

  it('then uses the cache', async () => {
    const cacheBin = join(dir, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
    mkdirSync(cacheBin);
    const cached = fakeBinary(join(cacheBin, 'temporal'));
    expect(await resolveTemporalCli({ cacheDir: dir, env: { PATH: '' } })).toBe(cached);
  });

  it('lists every route it tried when none works (no go, no network)', async () => {
    // No go toolchain, an empty PATH and cache; the SDK download needs the internet, which this machine lacks.
    const error = await resolveTemporalCli({ explicitPath: join(dir, 'missing'), cacheDir: dir, env: { PATH: '', HOME: dir }, goBinary: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalCliNotFoundError);
    const message = (error as Error).message;
    expect(message).toMatch(/1\. TEMPORAL_CLI_PATH=.*missing: not an executable file/);
    expect(message).toMatch(/2\. 'temporal' on PATH: not found/);
    expect(message).toMatch(/3\. cache .*: not present/);
    expect(message).toMatch(/4\. go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1: 'go' not found/);
    expect(message).toMatch(/5\. SDK download: /);
    expect(message).toMatch(/TEMPORAL_ADDRESS/);
  });
});
