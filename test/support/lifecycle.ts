import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities } from '../../activities/index.ts';
import { ingestVehicle, type IngestResult } from '../../certificates/ingest.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../../connectors/hsm/software.ts';
import type { KeySigner } from '../../connectors/hsm/signer.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import { createChannelRegistry, type ChannelRegistry } from '../../platform/delivery-channels.ts';
import { createLogger } from '../../platform/logger.ts';
import { telemetry } from '../../platform/telemetry.ts';
import { installTemporalRuntime } from '../../platform/temporal/runtime.ts';
import { waitFor } from '../../platform/wait.ts';
import type { Destination } from '../../schemas/config/destinations.ts';
import type { Config } from '../../schemas/config/index.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import { certificateWorkflowId, statusQuery } from '../../workflows/certificate/definitions.ts';
import type { CertificateStatus } from '../../schemas/certificate.ts';
import type { Actor, CertificateState, ReviewPolicy } from '../../schemas/certificate.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startNapSimulatorProcess, type NapSimulatorProcess } from './nap-simulator.ts';
import { NAP_DESTINATION } from './specimen.ts';
import { createTestPki, type TestPki } from './tls.ts';

export const actors = {
  erp: { id: 'erp-feed', roles: ['integrator'] },
  rita: { id: 'rita', roles: ['reviewer'] },
  rob: { id: 'rob', roles: ['reviewer'] },
  hana: { id: 'hana', roles: ['homologation'] },
  hugo: { id: 'hugo', roles: ['homologation', 'reviewer'] },
  release: { id: 'rel', roles: ['release-manager'] },
  ops: { id: 'ops', roles: ['ops'] },
} satisfies Record<string, Actor>;

export { NAP_DESTINATION, nextVin, specimenRecord, testDestination } from './specimen.ts';

export interface LifecycleHarness {
  client: Client;
  db: Database;
  config: Config;
  taskQueue: string;
  review: ReviewPolicy;
  /** Ids of the destinations in the harness's destinations file (what ingest accepts). */
  destinations: string[];
  nap: NapHandle;
  /** Every NAP simulator by destination id: the default one and those asked for with `extraNaps`. */
  naps: Map<string, NapHandle>;
  signer: KeySigner;
  databaseUrl: string;
  ingest(record: VehicleRecord, actor?: Actor): Promise<IngestResult>;
  /** Ingests for workflows served by another task queue (e.g. a worker process under test). */
  ingestOn(taskQueue: string): (record: VehicleRecord, actor?: Actor) => Promise<IngestResult>;
  status(certificateId: string): Promise<CertificateState>;
  waitForStatus(certificateId: string, status: CertificateStatus, timeoutMs?: number): Promise<CertificateState>;
  stop(): Promise<void>;
}

export type NapHandle = NapSimulatorProcess & {
  received(vin: string): Promise<NapVinState | undefined>;
  outage(calls: number): Promise<void>;
  /** The next `calls` SOAP calls get this answer and store nothing (the simulator's `POST /admin/fault`). */
  fault(spec: { calls: number; status: number; body: 'fault' | 'malformed' | 'oversized'; retryAfter?: number }): Promise<void>;
  /** Calls are stored at once but answered `ms` later, or never (`POST /admin/delay`); only the next `calls` when given. */
  delay(spec: { ms: number | 'never'; calls?: number }): Promise<void>;
};

export interface NapVinState {
  messages: { receiptId: string; iviReferenceId: string; iviVersionNumber: number; receivedAt: string }[];
  deleted?: { receiptId: string; reason: string };
}

/**
 * Real components for lifecycle tests: the run's Temporal server, a fresh PostgreSQL database,
 * a software signing key, the NAP simulator over mutual TLS, and a Worker on its own task queue.
 */
export async function startLifecycleHarness(
  options: {
    review?: Partial<ReviewPolicy>;
    env?: Record<string, string>;
    /** Configured next to the NAP (e.g. an SFTP partner on a test sshd). */
    destinations?: Destination[];
    /** Ids of further NAP destinations, each its own simulator process. */
    extraNaps?: string[];
  } = {},
): Promise<LifecycleHarness> {
  const logger = createLogger(process.env.ECOC_TEST_LOG_LEVEL ?? 'warn');
  installTemporalRuntime(logger);
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-lifecycle-'));
  const database: TestDatabase = await createTestDatabase();
  const pki: TestPki = createTestPki();
  const napIds = [NAP_DESTINATION, ...(options.extraNaps ?? [])];
  const napProcesses = await Promise.all(napIds.map((_id, index) => startNapSimulatorProcess(pki, join(dir, `nap-state-${index}`))));
  const destinationsFile = join(dir, 'destinations.json');
  writeFileSync(
    destinationsFile,
    JSON.stringify([
      ...napIds.map((id, index) => ({
        id,
        kind: 'nap',
        url: napProcesses[index]!.url,
        clientCertFile: pki.clientCert,
        clientKeyFile: pki.clientKey,
        caFile: pki.caCert,
        memberState: 'e6',
      })),
      ...(options.destinations ?? []),
    ]),
  );
  const taskQueue = `lifecycle-${Math.random().toString(36).slice(2)}`;
  const config = loadConfig({ ECOC_DATA_DIR: dir, ECOC_TASK_QUEUE: taskQueue, ECOC_DESTINATIONS_FILE: destinationsFile, ECOC_DELIVERY_TIMEOUT: '10s', ...options.env });
  const destinations = [...napIds, ...(options.destinations ?? []).map((destination) => destination.id)];
  const review: ReviewPolicy = { escalateAfterMs: 3_600_000, expireAfterMs: 7_200_000, escalationOwner: 'lead', ...options.review };
  const db = createDatabase(database.url);
  const keyFiles = await ensureSoftwareKey(dir);
  const signer = await openSoftwareSigner(keyFiles);
  const channels: ChannelRegistry = await createChannelRegistry(config, logger);
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    // The production bundle's tracing interceptors export through this sink (a no-op without tracing).
    sinks: telemetry().workflowSinks,
    activities: createActivities({ db, logger, config, signer, channel: channels.channel, client }),
  });
  const running = worker.run();
  const naps = new Map(napIds.map((id, index) => [id, napHandle(napProcesses[index]!, pki)]));

  const status = (certificateId: string) => client.workflow.getHandle(certificateId).query(statusQuery);
  return {
    client,
    db,
    config,
    taskQueue,
    review,
    destinations,
    signer,
    nap: naps.get(NAP_DESTINATION)!,
    naps,
    databaseUrl: database.url,
    ingest: (record, actor = actors.erp) => ingestVehicle({ db, client, taskQueue, review, destinations }, record, actor, 'erp'),
    ingestOn: (otherQueue) => (record, actor = actors.erp) => ingestVehicle({ db, client, taskQueue: otherQueue, review, destinations }, record, actor, 'erp'),
    status,
    async waitForStatus(certificateId, wanted, timeoutMs = 30_000) {
      let last: CertificateState | undefined;
      try {
        await waitFor(
          async () => {
            last = await status(certificateId);
            return last.status === wanted;
          },
          { timeoutMs, what: `certificate ${certificateId} in state ${wanted}` },
        );
      } catch (error) {
        const seen = last ? `; it is ${last.status}${last.failure ? ` (failure in ${last.failure.step}: ${last.failure.reason})` : ''}` : '';
        throw new Error(`${(error as Error).message}${seen}`, { cause: error });
      }
      return last!;
    },
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await connection.close();
      await channels.close();
      await signer.close();
      await db.$disconnect();
      await Promise.all(napProcesses.map((nap) => nap.stop()));
      await database.drop();
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { certificateWorkflowId };

/** The simulator's state and outage control, through its admin endpoints. */
function napHandle(process: NapSimulatorProcess, pki: TestPki): NapHandle {
  const origin = new URL(process.url).origin;
  const admin = (path: string, body?: unknown) => mtlsJson(`${origin}${path}`, pki, body);
  return {
    ...process,
    async received(vin) {
      const response = await admin(`/admin/vins/${vin}`);
      return response.status === 404 ? undefined : (response.body as NapVinState);
    },
    async outage(calls) {
      const response = await admin('/admin/outage', { calls });
      if (response.status !== 200) throw new Error(`outage control failed: ${response.status}`);
    },
    async fault(spec) {
      const response = await admin('/admin/fault', spec);
      if (response.status !== 200) throw new Error(`fault control failed: ${response.status} ${JSON.stringify(response.body)}`);
    },
    async delay(spec) {
      const response = await admin('/admin/delay', spec);
      if (response.status !== 200) throw new Error(`delay control failed: ${response.status} ${JSON.stringify(response.body)}`);
    },
  };
}

/** The simulator's admin endpoints sit behind the same mutual TLS as its SOAP endpoint. */
export function mtlsJson(url: string, pki: Pick<TestPki, 'caCert' | 'clientCert' | 'clientKey'>, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.clientCert),
        key: readFileSync(pki.clientKey),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }));
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
