import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createApiKey } from '../../auth/api-keys.ts';
import { startApplication, type Application } from '../../platform/application.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { waitFor } from '../../platform/wait.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import type { CertificateStatus, Role } from '../../schemas/certificate.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startNapSimulatorProcess, type NapSimulatorProcess } from './nap-simulator.ts';
import { NAP_DESTINATION } from './specimen.ts';
import { createTestPki, type TestPki } from './tls.ts';

export interface ConsoleApp {
  /** Base URL of the running API (the console is at `${url}/console/`). */
  url: string;
  app: Application;
  /** Temporal Web UI base URL the console links to. */
  temporalUiUrl: string;
  key(subject: string, roles: Role[], manufacturers?: string[]): Promise<string>;
  /** Ingests through the API (POST /api/v1/vehicles) and returns the certificate id. */
  ingest(record: VehicleRecord, token: string): Promise<string>;
  waitForStatus(certificateId: string, status: CertificateStatus, token: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole app as `npm start` runs it (startApplication: worker + API, console included) on the
 * run's Temporal, a fresh database, a software signing key and the NAP simulator over mTLS.
 */
export async function startConsoleApp(): Promise<ConsoleApp> {
  const logger = createLogger(process.env.ECOC_TEST_LOG_LEVEL ?? 'warn');
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-console-'));
  const database: TestDatabase = await createTestDatabase();
  const pki: TestPki = createTestPki();
  const nap: NapSimulatorProcess = await startNapSimulatorProcess(pki, join(dir, 'nap-state'));
  const destinationsFile = join(dir, 'destinations.json');
  writeFileSync(
    destinationsFile,
    JSON.stringify([{ id: NAP_DESTINATION, kind: 'nap', url: nap.url, clientCertFile: pki.clientCert, clientKeyFile: pki.clientKey, caFile: pki.caCert, memberState: 'e6' }]),
  );
  const temporalUiUrl = 'http://temporal-ui.test:8233';
  const config = loadConfig({
    ...process.env,
    ECOC_DATA_DIR: dir,
    ECOC_TASK_QUEUE: `console-${Math.random().toString(36).slice(2)}`,
    ECOC_DESTINATIONS_FILE: destinationsFile,
    ECOC_DELIVERY_TIMEOUT: '10s',
    ECOC_API_HOST: '127.0.0.1',
    ECOC_API_PORT: '0',
    ECOC_API_RATE_PER_SECOND: '10000',
    ECOC_API_RATE_BURST: '10000',
    ECOC_TEMPORAL_UI_URL: temporalUiUrl,
    ECOC_LOG_LEVEL: process.env.ECOC_TEST_LOG_LEVEL ?? 'warn',
  });
  const app = await startApplication(config, { temporalAddress: inject('temporalAddress'), databaseUrl: database.url }, logger, { worker: true, api: true });
  const url = app.api!.url;
  const api = async (path: string, token: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    url,
    app,
    temporalUiUrl,
    async key(subject, roles, manufacturers = ['acme']) {
      return (await createApiKey(app.db, { subject, roles, manufacturers, createdBy: 'console-test' })).token;
    },
    async ingest(record, token) {
      const result = await api('/api/v1/vehicles', token, record);
      return result.certificateId as string;
    },
    async waitForStatus(certificateId, status, token, timeoutMs = 60_000) {
      let seen = '';
      await waitFor(
        async () => {
          seen = (await api(`/api/v1/certificates/${certificateId}/status`, token)).status as string;
          return seen === status;
        },
        { timeoutMs, what: `certificate ${certificateId} in state ${status} (last seen ${seen || 'nothing'})` },
      );
    },
    async stop() {
      await app.stop();
      await nap.stop();
      await database.drop();
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
