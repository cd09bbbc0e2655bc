import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { embeddedStackEnv, runCli, type RunningCli } from '../support/processes.ts';

/** `npm start`'s command, end to end: real processes, real ports, real data directory. */
describe('ecoc start (the whole embedded stack)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let ports: { temporal: number; ui: number; postgres: number; api: number; workerOps: number; nap: number };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-stack-'));
    chmodSync(dataDir, 0o755);
    ({ env, ports } = await embeddedStackEnv(dataDir, inject('temporalCliPath')));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function startStack(): Promise<RunningCli> {
    const stack = runCli(['start'], env);
    let exitedEarly: number | string | undefined;
    void stack.exited.then((code) => (exitedEarly = code));
    await waitFor(
      async () => {
        if (exitedEarly !== undefined) throw new Error(`stack exited with ${exitedEarly}:\n${stack.output()}`);
        const response = await fetch(`http://127.0.0.1:${ports.api}/readyz`);
        return response.status === 200;
      },
      { timeoutMs: 120_000, what: 'the stack', fatal: () => exitedEarly !== undefined },
    );
    return stack;
  }

  function databaseUrl(): string {
    const password = readFileSync(join(env.ECOC_DATA_DIR!, 'postgres', 'password'), 'utf8').trim();
    return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${ports.postgres}/ecoc`;
  }

  function serverProcesses(): string[] {
    const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    return out.split('\n').filter((line) => line.includes(env.ECOC_DATA_DIR!));
  }

  it('starts everything, registers search attributes, stops cleanly on SIGINT and keeps the data for the next start', async () => {
    const first = await startStack();
    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    // The worker's own operations port, next to the API's.
    await waitFor(async () => (await fetch(`http://127.0.0.1:${ports.workerOps}/readyz`)).status === 200, { timeoutMs: 30_000, what: 'worker readyz' });
    expect(await (await fetch(`http://127.0.0.1:${ports.workerOps}/metrics`)).text()).toMatch(/^temporal_worker_task_slots_available\{/m);
    const attributes = execFileSync(inject('temporalCliPath'), ['operator', 'search-attribute', 'list', '--address', `127.0.0.1:${ports.temporal}`], { encoding: 'utf8' });
    for (const name of ['EcocVin', 'EcocStatus', 'EcocTypeApprovalNumber', 'EcocManufacturer', 'EcocDestination', 'EcocBatchId', 'EcocReviewDeadline']) {
      expect(attributes).toContain(name);
    }
    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    await client.query(`INSERT INTO manufacturer (id, name) VALUES ('acme', 'ACME Vehicles')`);
    // The worker and API connect as the role that owns nothing.
    const sessions = await client.query<{ usename: string }>(`SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'ecoc' AND backend_type = 'client backend' AND usename <> 'postgres'`);
    expect(sessions.rows.map((row) => row.usename)).toEqual(['ecoc_app']);
    await client.end();
    // The CLI against the running stack: an audited action, a checkpoint on demand, and verification against the witness.
    for (const [args, expected] of [
      [['keys', 'create-admin'], /ecoc_[0-9a-f]{16}_/],
      [['audit', 'checkpoint'], /checkpoint 1 at .*: 1 chain\(s\)/],
      [['audit', 'verify'], /audit trail intact: 1 record\(s\) in 1 chain\(s\) verified[\s\S]*witness workflow ecoc-audit-witness-ecoc: 1 checkpoint\(s\) compared[\s\S]*witness file .*witness\.jsonl: 1 checkpoint/],
    ] as const) {
      const command = runCli([...args], env);
      expect(await command.exited, command.output()).toBe(0);
      expect(command.output()).toMatch(expected);
    }
    expect(existsSync(join(env.ECOC_DATA_DIR!, 'audit', 'mac-key'))).toBe(true);
    // Every log line is structured JSON with the part of the stack it comes from.
    const lines = first.output().split('\n').filter((line) => line.startsWith('{'));
    const components = new Set(lines.map((line) => (JSON.parse(line) as { component?: string }).component));
    expect([...components]).toEqual(expect.arrayContaining(['migrate', 'api']));

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('stopped cleanly');
    expect(serverProcesses()).toEqual([]);

    const second = await startStack();
    const again = new pg.Client({ connectionString: databaseUrl() });
    await again.connect();
    const { rows } = await again.query(`SELECT name FROM manufacturer WHERE id = 'acme'`);
    await again.end();
    expect(rows).toEqual([{ name: 'ACME Vehicles' }]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(serverProcesses()).toEqual([]);
  }, 300_000);

  it('refuses to start when a port is taken, naming the port and the variable, and starts nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.api, '127.0.0.1', resolve));
    try {
      const stack = runCli(['start'], env);
      expect(await stack.exited).toBe(1);
      expect(stack.output()).toMatch(new RegExp(`port ${ports.api} \\(API \\(ECOC_API_PORT\\)\\) is already in use`));
      expect(serverProcesses()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('refuses an invalid setting with a message naming the variable', async () => {
    const clash = runCli(['start'], { ...env, ECOC_WORKER_OPS_PORT: String(ports.api) });
    expect(await clash.exited).toBe(1);
    expect(clash.output()).toMatch(/ECOC_WORKER_OPS_PORT and ECOC_API_PORT are both/);
    const stack = runCli(['start'], { ...env, ECOC_API_PORT: 'http' });
    expect(await stack.exited).toBe(1);
    expect(stack.output()).toMatch(/ECOC_API_PORT: .*\(got "http"\)/);
  });

  it('refuses a data directory it does not recognise and deletes nothing', async () => {
    const corrupt = join(dataDir, 'corrupt');
    mkdirSync(join(corrupt, 'postgres', 'cluster'), { recursive: true });
    writeFileSync(join(corrupt, 'postgres', 'cluster', 'precious.txt'), 'keep me');
    const stack = runCli(['start'], { ...env, ECOC_DATA_DIR: corrupt });
    expect(await stack.exited).toBe(1);
    expect(stack.output()).toMatch(/holds no PostgreSQL cluster \(PG_VERSION missing\)\. Nothing was changed/);
    expect(existsSync(join(corrupt, 'postgres', 'cluster', 'precious.txt'))).toBe(true);
    expect(serverProcesses()).toEqual([]);
  });
});
