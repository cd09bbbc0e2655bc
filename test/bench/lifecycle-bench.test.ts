import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitOf, REPO_ROOT } from '../support/processes.ts';

/** Runs a bench script to its end; resolves with its output once it exited 0. */
async function runBench(name: string, args: string[]): Promise<string> {
  const script = fileURLToPath(new URL(`../../bench/${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  expect(await exitOf(child), output).toBe(0);
  return output;
}

/**
 * The lifecycle and API benches, run small, so they cannot rot: each must finish and print its
 * figures. Nothing is asserted about speed (the numbers depend on the machine and on what else
 * runs); what is asserted is that a worker killed mid-run loses nothing and sends nothing twice.
 */
describe('benches', () => {
  it('lifecycle: 25 certificates end to end with the worker killed midway, the bare engine of their shape, in-process, and 25 parked', async () => {
    const output = await runBench('lifecycle', ['--certificates', '25', '--parked', '25', '--concurrency', '16', '--kill-worker-at', '10']);
    for (const line of [
      /per certificate now: \d+ activities, \d+ local activities, \d+ Updates/,
      /per certificate before \(recorded v2 histories\): \d+ activities/,
      /[\d.]+ certificates\/s through Temporal/,
      /[\d.]+ workflows\/s bare engine, same shape/,
      /ratio to bare engine: [\d.]+/,
      /[\d.]+ certificates\/s in-process without Temporal/,
      /total\s+\d+\s+\d+/,
      /worker SIGKILLed with \d+ acknowledged, a new one polling/,
      /invariants: delivered once 25 of 25, duplicated 0, lost 0, stuck 0, unverified 0, audit verified/,
      /25 parked in review after \d+ s: worker RSS \d+ MiB/,
      /parking: [\d.]+ certificates\/s \(\d+ activities.*bare engine, that shape: [\d.]+ workflows\/s; ratio [\d.]+/,
    ]) {
      expect(output).toMatch(line);
    }
  }, 900_000);

  it('api: status latency from the certificate row, live, the list and unknown ids (404)', async () => {
    const output = await runBench('api', ['--certificates', '40', '--clients', '10', '--seconds', '3']);
    for (const line of [
      /seeded 40 certificates into review .*; 40 in review/,
      /GET \/certificates\/:id\/status \(certificate row\), 10 clients: \d+ requests, .*p99 [\d.]+ ms, .*errors 0/,
      /status\?live=true \(Temporal query\), 10 clients: \d+ requests, .*errors 0/,
      /GET \/certificates\?status=in_review \(projection\), 10 clients: \d+ requests, .*errors 0/,
      /unknown ids \(404\), 10 clients: \d+ requests, .*errors 0/,
      /unknown ids \(404\), 1 client: \d+ requests, .*errors 0/,
    ]) {
      expect(output).toMatch(line);
    }
  }, 600_000);
});
