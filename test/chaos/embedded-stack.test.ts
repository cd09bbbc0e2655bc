import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { embeddedStackEnv, runCli, type RunningCli } from '../support/processes.ts';

/**
 * Faults of `npm start`'s own servers, on one real stack: its embedded PostgreSQL dies and stays
 * away for a while (the API answers 503 with Retry-After, /readyz says why without an address,
 * the supervisor brings it back and everything recovers without a restart); then the start
 * process itself is SIGKILLed, leaving its servers running on their ports, and the next start
 * takes them over.
 */
describe('chaos: the embedded stack loses its database, then its own process', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let ports: { temporal: number; ui: number; postgres: number; api: number; workerOps: number; nap: number };
  let stack: RunningCli | undefined;
  let standIn: { close(): Promise<void> } | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-chaos-stack-'));
    chmodSync(dataDir, 0o755);
    ({ env, ports } = await embeddedStackEnv(dataDir, inject('temporalCliPath')));
  });
  afterAll(async () => {
    await standIn?.close();
    if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
      stack.child.kill('SIGINT');
      await stack.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = (path: string, key?: string) => fetch(`http://127.0.0.1:${ports.api}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  const postmasterPidFile = () => join(env.ECOC_DATA_DIR!, 'postgres', 'cluster', 'postmaster.pid');
  const pidIn = (file: string) => Number.parseInt(readFileSync(file, 'utf8').split('\n')[0]!, 10);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  async function startStack(): Promise<RunningCli> {
    const started = runCli(['start'], env);
    let exited: number | string | undefined;
    void started.exited.then((code) => (exited = code));
    await waitFor(async () => (await api('/readyz')).status === 200, {
      timeoutMs: 180_000,
      what: `the stack (${started.output().slice(-2000)})`,
      fatal: () => exited !== undefined,
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${started.output().slice(-3000)}`);
    });
    return started;
  }

  it('answers 503 while PostgreSQL is away, restarts it, and survives its own SIGKILL', async () => {
    stack = await startStack();
    const admin = runCli(['keys', 'create-admin'], env);
    expect(await admin.exited, admin.output()).toBe(0);
    const key = /ecoc_[0-9a-f]{16}_\S+/.exec(admin.output())![0];
    expect((await api('/api/v1/certificates', key)).status).toBe(200);

    // PostgreSQL dies and its port is taken by a stand-in that answers every connection as a
    // PostgreSQL that is still starting up (57P03): no restart can bind the port until the
    // "outage" ends, while the supervisor keeps trying with backoff.
    const postmaster = pidIn(postmasterPidFile());
    process.kill(postmaster, 'SIGKILL');
    standIn = await startingUpPostgres(ports.postgres);
    const outageStarted = Date.now();

    await waitFor(async () => (await api('/api/v1/certificates', key)).status === 503, { timeoutMs: 30_000, what: 'the API to notice the outage' });
    const during = await api('/api/v1/certificates', key);
    expect(during.status).toBe(503);
    expect(during.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await during.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
    // Authentication itself needs the database: a wrong key gets the same 503, not a 500 or a 401.
    const unknownKey = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
    expect((await api('/api/v1/certificates', unknownKey)).status).toBe(503);
    const ready = await api('/readyz');
    expect(ready.status).toBe(503);
    const readiness = JSON.stringify(await ready.json());
    expect(readiness).toMatch(/"database":\{"ok":false,"detail":"[^"]+"/);
    expect(readiness).not.toContain(String(ports.postgres));
    expect(readiness).not.toContain('127.0.0.1');
    expect((await api('/healthz')).status).toBe(200);

    // The outage ends; the supervisor's next attempt starts the cluster, and the API recovers on its own.
    await standIn.close();
    standIn = undefined;
    await waitFor(async () => (await api('/api/v1/certificates', key)).status === 200, { timeoutMs: 90_000, what: 'the API to recover' });
    const outageMs = Date.now() - outageStarted;
    expect(pidIn(postmasterPidFile())).not.toBe(postmaster);
    expect(stack.child.exitCode).toBeNull();
    expect((await api('/readyz')).status).toBe(200);
    expect(stack.output()).toMatch(/embedded PostgreSQL exited unexpectedly; restarting it/);
    console.log(`database outage: ${outageMs} ms from kill to the API answering 200 again`);

    // The start process is SIGKILLed: nothing stops its servers, which keep their ports.
    const temporalPid = pidIn(join(env.ECOC_DATA_DIR!, 'temporal', 'server.pid'));
    const simulatorPid = pidIn(join(env.ECOC_DATA_DIR!, 'nap-simulator', 'state', 'server.pid'));
    const leftovers = [pidIn(postmasterPidFile()), temporalPid, simulatorPid];
    stack.child.kill('SIGKILL');
    await stack.exited;
    expect(leftovers.map(alive)).toEqual([true, true, true]);

    stack = await startStack();
    expect(leftovers.map(alive)).toEqual([false, false, false]);
    expect((await api('/api/v1/certificates', key)).status).toBe(200); // same data: the key is still known
    expect(stack.output()).toMatch(/left running by an earlier start of this data directory; stopping it/);

    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(alive(pidIn(join(env.ECOC_DATA_DIR!, 'temporal', 'server.pid')))).toBe(false);
    expect(existsSync(postmasterPidFile())).toBe(false); // PostgreSQL removes it on a clean shutdown
  }, 600_000);
});

/**
 * Binds the port as soon as the killed server let go of it and answers each connection with the
 * ErrorResponse a starting PostgreSQL sends (FATAL 57P03), then closes it.
 */
async function startingUpPostgres(port: number): Promise<{ close(): Promise<void> }> {
  const field = (type: string, value: string) => Buffer.concat([Buffer.from(type), Buffer.from(`${value}\0`)]);
  const body = Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', '57P03'), field('M', 'the database system is starting up'), Buffer.from('\0')]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  const answer = Buffer.concat([Buffer.from('E'), length, body]);
  let server: Server | undefined;
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const candidate = createServer((socket) => socket.once('data', () => socket.end(answer)).on('error', () => undefined));
        candidate.once('error', () => resolve(false));
        candidate.listen(port, '127.0.0.1', () => {
          server = candidate;
          resolve(true);
        });
      }),
    { timeoutMs: 10_000, intervalMs: 20, what: `port ${port} to be free` },
  );
  return { close: () => new Promise((resolve) => server!.close(() => resolve())) };
}
