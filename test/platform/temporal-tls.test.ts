import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApplication, type Application } from '../../platform/application.ts';
import { ConfigError, loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { connectTemporalClient, connectTemporalNative, temporalConnectionOptions } from '../../platform/temporal/connection.ts';
import { startWorker, type RunningWorker } from '../../platform/temporal/worker.ts';
import { checkpointNowUpdate } from '../../workflows/audit/definitions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { runCli } from '../support/processes.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';
import { startTlsTerminator, type TlsTerminator } from '../support/tls-terminator.ts';

const logger = createLogger('warn');

/** The run's dev server behind a TLS terminator that requires client certificates of the test CA. */
describe('Temporal over mutual TLS (worker, API client, CLI)', () => {
  let pki: TestPki;
  let terminator: TlsTerminator;
  let database: TestDatabase;
  let dir: string;
  let mtls: Record<string, string>;
  const taskQueue = `tls-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    pki = createTestPki();
    terminator = await startTlsTerminator(pki, inject('temporalAddress'));
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ecoc-tls-test-'));
    mtls = {
      TEMPORAL_ADDRESS: terminator.address,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
  });
  afterAll(async () => {
    await terminator?.stop();
    await database?.drop();
    pki?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a real Worker, the API and the ecoc CLI through the terminator', async () => {
    const config = loadConfig({ ...mtls, ECOC_DATA_DIR: dir, ECOC_TASK_QUEUE: taskQueue, ECOC_API_PORT: '0', ECOC_LOG_LEVEL: 'warn', ECOC_AUDIT_MAC_KEY: process.env.ECOC_AUDIT_MAC_KEY! });
    const options = temporalConnectionOptions(config);
    expect(options.address).toBe(terminator.address);
    expect(options.tls).toMatchObject({ serverNameOverride: 'localhost', clientCertPair: {} });

    let worker: RunningWorker | undefined;
    let app: Application | undefined;
    try {
      // The worker: the same options, through its NativeConnection; its activity answers the witness's checkpoint.
      worker = await startWorker({
        connection: options,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue,
        activities: { takeAuditCheckpoint: async () => ({ intervalMs: 3_600_000, checkpoint: null, publish: false }) },
        logger,
        workflowBundlePath: inject('workflowBundlePath'),
      });
      // The API role: its Temporal client and readiness connection are built from the same config.
      app = await startApplication(config, { temporalAddress: 'not-used:1', databaseUrl: database.url }, logger, { worker: false, api: true });
      const handle = await app.client.workflow.start('auditWitnessWorkflow', { taskQueue, workflowId: `${taskQueue}-witness`, args: [{ intervalMs: 3_600_000 }] });
      try {
        // An Update answered by the workflow after its activity ran: worker and client both went through TLS.
        expect(await handle.executeUpdate(checkpointNowUpdate)).toEqual({ last: null });
        const response = await fetch(`${app.api!.url}/readyz`);
        const body = (await response.json()) as { checks: Record<string, { ok: boolean }> };
        expect(body.checks.temporal!.ok).toBe(true);
      } finally {
        await handle.terminate('test done');
      }

      // The CLI, a real process, configured by a profile file instead of variables.
      const profileFile = join(dir, 'temporal.toml');
      writeFileSync(
        profileFile,
        [
          '[profile.mtls]',
          `address = "${terminator.address}"`,
          'namespace = "default"',
          '[profile.mtls.tls]',
          `client_cert_path = "${pki.clientCert}"`,
          `client_key_path = "${pki.clientKey}"`,
          `server_ca_cert_path = "${pki.caCert}"`,
          'server_name = "localhost"',
          '',
        ].join('\n'),
      );
      const cli = runCli(['schedule', 'list', '--json'], { TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'mtls', ECOC_DATA_DIR: dir, ECOC_LOG_LEVEL: 'warn' });
      expect(await cli.exited, cli.output()).toBe(0);
      expect(Array.isArray(JSON.parse(cli.output()))).toBe(true);
    } finally {
      await app?.stop();
      await worker?.stop();
    }
  });

  it('without a client certificate, the client, the worker and the CLI fail within seconds, saying so', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...noCert } = mtls;
    const options = temporalConnectionOptions(loadConfig(noCert));
    const started = Date.now();
    await expect(connectTemporalClient(options, 5_000)).rejects.toThrow(/requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/);
    await expect(connectTemporalNative(options)).rejects.toThrow(/requires a client certificate/);
    expect(Date.now() - started).toBeLessThan(5_000);

    const cliStarted = Date.now();
    const cli = runCli(['schedule', 'list'], { ...noCert, ECOC_DATA_DIR: dir, ECOC_LOG_LEVEL: 'warn' });
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/requires a client certificate/);
    expect(Date.now() - cliStarted).toBeLessThan(15_000); // includes the process's own start-up
  });

  it('with the wrong CA, the server is not trusted and the message names TEMPORAL_TLS_SERVER_CA_CERT_PATH', async () => {
    const options = temporalConnectionOptions(loadConfig({ ...mtls, TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(pki.dir, 'rogue-ca.crt') }));
    const started = Date.now();
    await expect(connectTemporalClient(options, 5_000)).rejects.toThrow(/not issued by the CA in TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    await expect(connectTemporalNative(options)).rejects.toThrow(/not issued by the CA in TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a client certificate from a CA the server does not trust is refused with a clear message', async () => {
    const options = temporalConnectionOptions(loadConfig({ ...mtls, TEMPORAL_TLS_CLIENT_CERT_PATH: pki.rogueClientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.rogueClientKey }));
    await expect(connectTemporalClient(options, 5_000)).rejects.toThrow(/refused the client certificate/);
  });

  it('checks the settings at start, naming the variable', () => {
    const invalid = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(invalid({ ...mtls, TEMPORAL_TLS_CLIENT_KEY_PATH: '' })).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/);
    expect(invalid({ ...mtls, TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'missing.crt') })).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read .*missing\.crt/);
    expect(invalid({ ...mtls, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.rogueClientKey })).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH: .* is not the key of the certificate/);
    expect(invalid({ ...mtls, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.clientKey })).toMatch(/TEMPORAL_TLS_SERVER_CA_CERT_PATH: .* holds no PEM certificate/);
    expect(invalid({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert })).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_ADDRESS is not/);
    expect(invalid({ TEMPORAL_TLS: 'yes', TEMPORAL_ADDRESS: 'x:1' })).toMatch(/TEMPORAL_TLS/);
    expect(invalid({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toMatch(/TEMPORAL_CONFIG_FILE: cannot read/);
    const file = join(dir, 'profiles.toml');
    writeFileSync(file, '[profile.default]\nnamespace = "ecoc"\n');
    expect(invalid({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toMatch(/TEMPORAL_PROFILE: profile 'prod' of .*profiles\.toml does not exist/);
    expect(invalid({ TEMPORAL_CONFIG_FILE: file })).toMatch(/TEMPORAL_ADDRESS: not set, and profile 'default' of .*profiles\.toml has no address/);
    // A profile supplies address and namespace; a variable overrides the profile.
    writeFileSync(file, '[profile.default]\naddress = "temporal.example:7233"\nnamespace = "ecoc"\n');
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({ TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_NAMESPACE: 'ecoc' });
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_NAMESPACE: 'other' }).TEMPORAL_NAMESPACE).toBe('other');
    // The embedded default is untouched: no address, a plain connection to the embedded port.
    expect(temporalConnectionOptions(loadConfig({}))).toEqual({ address: '127.0.0.1:7233' });
    // An API key alone means TLS with the system CAs, as in the Temporal SDKs.
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' }))).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'k' });
  });
});
