// A worker as its own process, built like the production worker (same activities, real
// channels and database) but on the test run's pre-built workflow bundle, so it starts in
// seconds. Configuration comes from the environment (ECOC_*, TEMPORAL_ADDRESS, DATABASE_URL);
// prints {"event":"ready"} once it polls. Tests kill it with SIGKILL to simulate a crash.
// Run: tsx test/support/worker-process.ts <workflow-bundle.js>
import { Client } from '@temporalio/client';
import { createActivities } from '../../activities/index.ts';
import { createKeySigner } from '../../connectors/hsm/index.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDatabase } from '../../platform/database/prisma.ts';
import { createChannelRegistry } from '../../platform/delivery-channels.ts';
import { createLogger } from '../../platform/logger.ts';
import { connectTemporalClient, temporalConnectionOptions } from '../../platform/temporal/connection.ts';
import { startWorker } from '../../platform/temporal/worker.ts';
import { createSigningPool } from '../../signing/pool.ts';

const bundle = process.argv[2];
const config = loadConfig();
if (!bundle || !config.TEMPORAL_ADDRESS || !config.DATABASE_URL) throw new Error('usage: worker-process.ts <workflow-bundle.js> with TEMPORAL_ADDRESS and DATABASE_URL set');
const logger = createLogger(config.ECOC_LOG_LEVEL, 2);
const db = createDatabase(config.DATABASE_URL);
const temporal = temporalConnectionOptions(config);
const connection = await connectTemporalClient(temporal);
const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
// As the production worker chooses it: ECOC_SIGNER=pkcs11 signs on a token, else the software key.
const signer = await createKeySigner(config, logger);
const signingWork = createSigningPool({ threads: config.ECOC_SIGNING_THREADS });
const channels = await createChannelRegistry(config, logger);
await startWorker({
  connection: temporal,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.ECOC_TASK_QUEUE,
  activities: createActivities({ db, logger, config, signer, signingWork, channel: channels.channel, client }),
  logger,
  workflowBundlePath: bundle,
});
console.log(JSON.stringify({ event: 'ready', taskQueue: config.ECOC_TASK_QUEUE }));
