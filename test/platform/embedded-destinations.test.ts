import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../platform/ports.ts';
import { waitFor } from '../../platform/wait.ts';
import { mtlsJson } from '../support/lifecycle.ts';
import { runCli, type RunningCli } from '../support/processes.ts';
import { nextVin, specimenRecord } from '../support/specimen.ts';

/**
 * `npm start` on a fresh data directory, as a real process: with no destinations configured it
 * delivers to its own NAP simulator and archive folder; a destinations file replaces them.
 */
describe('ecoc start with its embedded destinations', () => {
  let root: string;
  let env: Record<string, string>;
  let ports: { api: number; nap: number };
  let stack: RunningCli | undefined;
  const dataDir = () => env.ECOC_DATA_DIR!;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ecoc-embedded-'));
    chmodSync(root, 0o755);
    ports = { api: await freePort(), nap: await freePort() };
    env = {
      ECOC_DATA_DIR: join(root, 'data'),
      ECOC_TEMPORAL_PORT: String(await freePort()),
      ECOC_TEMPORAL_UI_PORT: String(await freePort()),
      ECOC_POSTGRES_PORT: String(await freePort()),
      ECOC_API_PORT: String(ports.api),
      ECOC_WORKER_OPS_PORT: String(await freePort()),
      ECOC_NAP_SIMULATOR_PORT: String(ports.nap),
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      ECOC_LOG_LEVEL: 'info',
      TEMPORAL_ADDRESS: '',
      DATABASE_URL: '',
      ECOC_AUDIT_MAC_KEY: '',
    };
  });
  // A test that failed midway leaves its stack running: the next one (and the end) stops it first.
  async function stopLeftover(): Promise<void> {
    if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
      stack.child.kill('SIGTERM');
      await stack.exited;
    }
  }
  beforeEach(stopLeftover);
  afterAll(async () => {
    await stopLeftover();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(extra: Record<string, string> = {}): Promise<RunningCli> {
    const running = runCli(['start'], { ...env, ...extra });
    let exitedEarly: number | string | undefined;
    void running.exited.then((code) => (exitedEarly = code));
    await waitFor(async () => {
      if (exitedEarly !== undefined) throw new Error(`stack exited with ${exitedEarly}:\n${running.output()}`);
      return (await fetch(`http://127.0.0.1:${ports.api}/readyz`).catch(() => undefined))?.status === 200;
    }, { timeoutMs: 180_000, what: 'the stack', fatal: () => exitedEarly !== undefined });
    return running;
  }

  async function stop(running: RunningCli): Promise<void> {
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    // Every embedded process (Temporal, PostgreSQL, the NAP simulator) names the data directory in its arguments.
    const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(dataDir()));
    expect(left).toEqual([]);
  }

  async function cli(args: string[], extra: Record<string, string> = {}): Promise<string> {
    const command = runCli(args, { ...env, ...extra });
    expect(await command.exited, command.output()).toBe(0);
    return command.output();
  }

  const token = (output: string) => /(ecoc_[0-9a-f]{16}_\S+)/.exec(output)![1]!;

  async function api(method: string, path: string, bearer: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const response = await fetch(`http://127.0.0.1:${ports.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  /** Ingest (as the admin), approve and release now (as a second person): the lifecycle up to delivery. */
  async function deliver(destination: string, keys: { admin: string; rita: string }): Promise<{ vin: string; receipt: Record<string, unknown> }> {
    const vin = nextVin();
    const ingested = await api('POST', '/api/v1/vehicles', keys.admin, specimenRecord(vin, { destination }));
    expect(ingested.status, JSON.stringify(ingested.json)).toBe(201);
    const id = ingested.json.certificateId as string;
    const status = async () => (await api('GET', `/api/v1/certificates/${id}/status?live=true`, keys.rita)).json;
    await waitFor(async () => (await status()).status === 'in_review', { timeoutMs: 60_000, what: `${id} in review` });
    expect((await status()).live.findings).toMatchObject({ errors: 0 });
    expect((await api('POST', `/api/v1/certificates/${id}/approve`, keys.rita, { dataVersion: 1 })).status).toBe(200);
    expect((await api('POST', `/api/v1/certificates/${id}/release-now`, keys.rita)).status).toBe(200);
    let receipts: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        receipts = (await api('GET', `/api/v1/certificates/${id}/receipts`, keys.rita)).json.receipts as Record<string, unknown>[];
        return receipts.length > 0;
      },
      { timeoutMs: 60_000, what: `a delivery receipt for ${id}` },
    );
    expect(receipts).toHaveLength(1);
    return { vin, receipt: receipts[0]! };
  }

  it('delivers to the NAP simulator over mutual TLS and to the archive folder, and refuses a destination typo with the configured list', async () => {
    stack = await start();
    const readiness = (await (await fetch(`http://127.0.0.1:${ports.api}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail: string; data?: Record<string, unknown> }> };
    expect(readiness.checks.destinations).toMatchObject({ ok: true, data: { simulator: true, destinations: ['nap-simulator', 'archive'] } });
    expect(readiness.checks.destinations!.detail).toMatch(/NAP simulator.*not a real one/);
    const logs = stack.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { component?: string; msg?: string });
    expect(logs.some((line) => line.component === 'nap-simulator' && /NAP simulator: a local stand-in/.test(line.msg ?? ''))).toBe(true);
    expect(stack.output()).toContain('embedded: nap-simulator (NAP simulator, not a real NAP), archive (folder)');

    const admin = token(await cli(['keys', 'create-admin']));
    const rita = token(await cli(['keys', 'create', '--subject', 'rita', '--roles', 'reviewer,release-manager', '--manufacturers', '*']));
    // The console's dashboard lists the destinations, the simulator as what it is.
    const dashboard = await api('GET', '/api/v1/console/dashboard', admin);
    expect(dashboard.json.destinations).toEqual([
      { id: 'nap-simulator', kind: 'nap', description: expect.stringMatching(/^NAP simulator: a local stand-in/) },
      { id: 'archive', kind: 'archive', description: expect.any(String) },
    ]);

    const typo = await api('POST', '/api/v1/vehicles', admin, specimenRecord(nextVin(), { destination: 'nap-dee' }));
    expect(typo.status).toBe(400);
    expect(typo.json).toMatchObject({ code: 'invalid_request', title: 'destination "nap-dee" is not configured; configured: nap-simulator, archive' });
    const batch = await api('POST', '/api/v1/vehicles', admin, { records: [specimenRecord(nextVin(), { destination: 'archiv' }), specimenRecord(nextVin(), { destination: 'archive' })] });
    expect(batch.status).toBe(200);
    expect(batch.json.results[0]).toMatchObject({ ok: false, code: 'invalid_request', message: 'destination "archiv" is not configured; configured: nap-simulator, archive' });
    expect(batch.json.results[1]).toMatchObject({ ok: true, outcome: 'created' });

    // The simulator received the signed message; its admin endpoint takes the client certificate generated under the data directory.
    const nap = await deliver('nap-simulator', { admin, rita });
    expect(nap.receipt).toMatchObject({ destination: 'nap-simulator', kind: 'nap_receipt' });
    const pkiDir = join(dataDir(), 'nap-simulator', 'pki');
    const pki = { caCert: join(pkiDir, 'ca.crt'), clientCert: join(pkiDir, 'client.crt'), clientKey: join(pkiDir, 'client.key') };
    const received = await mtlsJson(`https://127.0.0.1:${ports.nap}/admin/vins/${nap.vin}`, pki);
    expect(received).toMatchObject({ status: 200, body: { messages: [{ receiptId: nap.receipt.reference, iviVersionNumber: 1 }] } });

    const archived = await deliver('archive', { admin, rita });
    expect(archived.receipt).toMatchObject({ destination: 'archive', kind: 'archive_file' });
    const file = join(dataDir(), 'archive', archived.receipt.reference as string);
    expect(readFileSync(file, 'utf8')).toContain(`<VehicleIdentificationNumber>${archived.vin}</VehicleIdentificationNumber>`);
    expect(JSON.parse(readFileSync(file.replace(/\.xml$/, '.receipt.json'), 'utf8'))).toMatchObject({ vin: archived.vin, iviVersionNumber: 1 });

    await stop(stack);
  }, 600_000);

  it('starts no simulator when a destinations file is configured: the file replaces the embedded destinations', async () => {
    const file = join(root, 'destinations.json');
    writeFileSync(file, JSON.stringify([{ id: 'vault', kind: 'archive', dir: join(root, 'vault') }]));
    stack = await start({ ECOC_DESTINATIONS_FILE: file });
    const readiness = (await (await fetch(`http://127.0.0.1:${ports.api}/readyz`)).json()) as { checks: Record<string, unknown> };
    expect(readiness.checks.destinations).toBeUndefined();
    expect((await fetch(`https://127.0.0.1:${ports.nap}/`).catch((error: Error) => error)) instanceof Error).toBe(true);
    const admin = token(await cli(['keys', 'create', '--subject', 'ops2', '--roles', 'admin', '--manufacturers', '*']));
    const typo = await api('POST', '/api/v1/vehicles', admin, specimenRecord(nextVin(), { destination: 'nap-simulator' }));
    expect(typo.json).toMatchObject({ status: 400, title: 'destination "nap-simulator" is not configured; configured: vault' });
    expect(existsSync(join(root, 'vault'))).toBe(false);
    await stop(stack);
  }, 300_000);
});
