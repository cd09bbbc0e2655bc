import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitOf, REPO_ROOT } from '../support/processes.ts';

/**
 * The lifecycle bench, run small, so it cannot rot: it must finish and print its figures. Nothing
 * is asserted about speed (the numbers depend on the machine and on what else runs).
 */
describe('lifecycle bench', () => {
  it('runs 25 certificates end to end, the bare engine of their shape, in-process, and parks 25', async () => {
    const script = fileURLToPath(new URL('../../bench/lifecycle.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--certificates', '25', '--parked', '25', '--concurrency', '16'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    expect(await exitOf(child), output).toBe(0);
    for (const line of [
      /per certificate now: \d+ activities, \d+ local activities, \d+ Updates/,
      /per certificate before \(recorded v2 histories\): \d+ activities/,
      /[\d.]+ certificates\/s through Temporal/,
      /[\d.]+ workflows\/s bare engine, same shape/,
      /ratio to bare engine: [\d.]+/,
      /[\d.]+ certificates\/s in-process without Temporal/,
      /total\s+\d+\s+\d+/,
      /25 parked in review after \d+ s: worker RSS \d+ MiB/,
    ]) {
      expect(output).toMatch(line);
    }
  }, 900_000);
});
