import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createActivities } from '../activities/index.ts';
import { loadAuditKeyring, useAuditKeyring } from '../audit/mac.ts';
import { startAuditWitness } from '../audit/witness.ts';
import { createApp } from '../api/app.ts';
import { listen, type RunningApi } from '../api/server.ts';
import { signingCertificateProbe } from '../api/signing-probe.ts';
import { workerPresence } from '../api/worker-presence.ts';
import { createOidcVerifier } from '../auth/oidc.ts';
import { startWebhookDispatcher, type WebhookDispatcher } from '../events/dispatcher.ts';
import { loadWebhookEndpoints } from '../events/endpoints.ts';
import { watchSigningCertificate } from '../events/signing-certificate.ts';
import { SigningCertificateMonitor } from '../signing/certificate-monitor.ts';
import { createSigningPool, type SigningPool } from '../signing/pool.ts';
import type { Config } from '../schemas/config/index.ts';
import { createKeySigner, type KeySigner } from '../connectors/hsm/index.ts';
import { startInboxPoller } from '../inbox/poller.ts';
import { createDatabase, type Database } from './database/prisma.ts';
import { createChannelRegistry, type ChannelRegistry } from './delivery-channels.ts';
import type { Logger } from './logger.ts';
import { freePort } from './ports.ts';
import { databaseProbe, temporalProbe, type ReadinessProbe } from './readiness.ts';
import { reviewPolicy } from './review-policy.ts';
import { connectTemporalClient, temporalConnectionOptions } from './temporal/connection.ts';
import { installTemporalRuntime, temporalMetricsAddress } from './temporal/runtime.ts';
import { startWorker, workflowMemory, type RunningWorker } from './temporal/worker.ts';
import { startTelemetry } from './telemetry.ts';
import { instrumentActivities, recordWorkerBuild, startWorkerOps, workerMetricsRegistry, workerPollingProbe, type WorkerOps } from './worker-ops.ts';

export interface ApplicationRoles {
  worker: boolean;
  api: boolean;
}

export interface Application {
  db: Database;
  client: Client;
  worker?: RunningWorker | undefined;
  /** The worker role's operations port (/healthz, /readyz, /metrics). */
  workerOps?: WorkerOps | undefined;
  api?: RunningApi | undefined;
  stop(): Promise<void>;
}

/** Re-exported for existing callers; it lives in review-policy.ts so activities need not import the application. */
export { reviewPolicy };

/** The app's own processes (worker and/or API) on top of running Temporal and PostgreSQL. */
export async function startApplication(
  config: Config,
  /** `readinessProbes`: embedded parts the API reports on besides its own checks (the NAP simulator). */
  servers: { temporalAddress: string; databaseUrl: string; readinessProbes?: Record<string, ReadinessProbe> | undefined },
  logger: Logger,
  roles: ApplicationRoles,
): Promise<Application> {
  // The audit MAC key: every record this process writes carries its MAC; verification needs it too.
  useAuditKeyring(loadAuditKeyring(config, logger.child({ component: 'audit' })));
  // Before any client or worker exists: they take their tracing interceptors from it.
  const tracing = await startTelemetry(config, logger, roles.worker && roles.api ? 'ecoc-hub' : roles.worker ? 'ecoc-worker' : 'ecoc-api');
  const db = createDatabase(servers.databaseUrl);
  // Your own server: TLS / API key from the config; the embedded one: plain, at its address.
  const temporal = temporalConnectionOptions(config, servers.temporalAddress);
  const connection = await connectTemporalClient(temporal);
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, interceptors: { workflow: tracing.clientInterceptors } });
  const probeConnection = Connection.lazy({ ...temporal, interceptors: [] });
  let worker: RunningWorker | undefined;
  let workerOps: WorkerOps | undefined;
  let api: RunningApi | undefined;
  let signer: KeySigner | undefined;
  let signingPool: SigningPool | undefined;
  let channels: ChannelRegistry | undefined;
  let webhooks: WebhookDispatcher | undefined;
  let signingWatch: { stop(): void } | undefined;
  const stop = async () => {
    await api?.stop();
    await workerOps?.stop();
    signingWatch?.stop();
    await webhooks?.stop();
    await worker?.stop();
    await signingPool?.close();
    await channels?.close();
    await signer?.close();
    await probeConnection.close();
    await connection.close();
    await db.$disconnect();
    await tracing.shutdown();
  };
  try {
    if (roles.worker) {
      // The SDK's own worker metrics, on loopback; the API's /metrics appends them.
      installTemporalRuntime(logger, { metricsBindAddress: `127.0.0.1:${config.ECOC_TEMPORAL_METRICS_PORT || (await freePort())}` });
      signer = await createKeySigner(config, logger);
      signingPool = createSigningPool({ threads: config.ECOC_SIGNING_THREADS });
      // The worker's own ops port answers from now on: /readyz says "starting" until the worker polls.
      const workerMetrics = workerMetricsRegistry();
      const workerSigning = new SigningCertificateMonitor({ certificatePem: signer.certificatePem, warnDays: config.ECOC_SIGNING_CERT_WARN_DAYS, registry: workerMetrics, logger });
      const polling = (running: RunningWorker) => workerPollingProbe(running, probeConnection, config.TEMPORAL_NAMESPACE, config.ECOC_TASK_QUEUE);
      workerOps = await startWorkerOps({
        host: config.ECOC_WORKER_OPS_HOST,
        port: config.ECOC_WORKER_OPS_PORT,
        registry: workerMetrics,
        probes: {
          worker: async () => (worker ? polling(worker)() : { ok: false, detail: 'starting' }),
          database: databaseProbe(db),
          signingCertificate: signingCertificateProbe(workerSigning),
        },
        temporalMetricsAddress: temporalMetricsAddress(),
        logger: logger.child({ component: 'worker-ops' }),
      });
      // Read before anything runs: a broken ECOC_WEBHOOKS_FILE or secret stops start-up, naming it.
      const webhookEndpoints = loadWebhookEndpoints(config.ECOC_WEBHOOKS_FILE);
      channels = await createChannelRegistry(config, logger.child({ component: 'delivery' }));
      worker = await startWorker({
        connection: temporal,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.ECOC_TASK_QUEUE,
        activities: instrumentActivities(createActivities({ db, logger: logger.child({ component: 'activity' }), config, signer, signingWork: signingPool, channel: channels.channel, client }), workerMetrics, logger.child({ component: 'activity' })),
        logger: logger.child({ component: 'worker' }),
        workflowBundlePath: config.ECOC_WORKFLOW_BUNDLE,
        shutdownGraceMs: config.ECOC_WORKER_SHUTDOWN_GRACE,
        memory: workflowMemory(config),
      });
      recordWorkerBuild(workerMetrics, worker.buildId);
      logger.info({ taskQueue: config.ECOC_TASK_QUEUE, buildId: worker.buildId, signingThreads: signingPool.threads }, 'worker polling');
      webhooks = startWebhookDispatcher({ db, endpoints: webhookEndpoints, settings: config, logger, registry: workerMetrics });
      signingWatch = watchSigningCertificate({ db, monitor: workerSigning, logger: logger.child({ component: 'signing' }) });
      await startAuditWitness(client, config, logger.child({ component: 'audit' }));
      await startInboxPoller(client, config, logger.child({ component: 'inbox' }));
    }
    if (roles.api) {
      const metrics = new Registry();
      collectDefaultMetrics({ register: metrics });
      // The signer's certificate in a worker process; an API-only process watches ECOC_SIGNING_CERT_FILE if set.
      const certificatePem = signer?.certificatePem ?? (config.ECOC_SIGNING_CERT_FILE ? readFileSync(config.ECOC_SIGNING_CERT_FILE, 'utf8') : undefined);
      const signing = certificatePem
        ? new SigningCertificateMonitor({ certificatePem, warnDays: config.ECOC_SIGNING_CERT_WARN_DAYS, registry: metrics, logger })
        : undefined;
      const { app } = createApp({
        db,
        client,
        taskQueue: config.ECOC_TASK_QUEUE,
        review: reviewPolicy(config),
        config,
        logger: logger.child({ component: 'api' }),
        readinessProbes: {
          ...servers.readinessProbes,
          temporal: temporalProbe(probeConnection),
          database: databaseProbe(db),
          worker: workerPresence(probeConnection, config.TEMPORAL_NAMESPACE, config.ECOC_TASK_QUEUE, metrics),
          ...(signing ? { signingCertificate: signingCertificateProbe(signing) } : {}),
        },
        metrics,
        oidc: createOidcVerifier(config),
        temporalMetricsAddress: temporalMetricsAddress(),
        signingCertificate: signing ? () => signing.status() : undefined,
      });
      api = await listen(app, config.ECOC_API_HOST, config.ECOC_API_PORT);
      logger.info({ url: api.url }, 'API listening');
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { db, client, worker, workerOps, api, stop };
}
