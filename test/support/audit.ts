import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { inject } from 'vitest';
import { createAuditActivities } from '../../activities/audit.ts';
import { verifyAuditTrail } from '../../audit/trail.ts';
import { startAuditWitness } from '../../audit/witness.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../../connectors/hsm/software.ts';
import type { KeySigner } from '../../connectors/hsm/signer.ts';
import { loadConfig } from '../../platform/config.ts';
import { telemetry } from '../../platform/telemetry.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import { createLogger } from '../../platform/logger.ts';
import { installTemporalRuntime } from '../../platform/temporal/runtime.ts';
import type { AuditVerification } from '../../schemas/api/audit.ts';
import type { Config } from '../../schemas/config/index.ts';
import { auditWitnessWorkflowId, checkpointNowUpdate } from '../../workflows/audit/definitions.ts';
import type { WitnessedCheckpoint } from '../../workflows/audit/types.ts';
import type { auditWitnessWorkflow } from '../../workflows/audit/workflow.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/**
 * The audit trail with everything that protects it, on real servers: a fresh database used as
 * the app role, a software seal key, a Worker with the audit activities on its own task queue,
 * and the witness workflow started as the worker starts it. `tamper` is the database superuser.
 */
export interface AuditStack {
  database: TestDatabase;
  db: Database;
  config: Config;
  client: Client;
  signer: KeySigner;
  dataDir: string;
  witness: WorkflowHandle<typeof auditWitnessWorkflow>;
  /** `ecoc audit checkpoint`: asks the witness for a checkpoint now; the latest witnessed one. */
  checkpoint(): Promise<WitnessedCheckpoint>;
  /** `ecoc audit verify` / `GET /api/v1/audit/verify`. */
  verify(): Promise<AuditVerification>;
  /** Runs SQL as the cluster superuser with triggers skipped (`session_replication_role = replica`). */
  tamper(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

export async function startAuditStack(env: Record<string, string> = {}): Promise<AuditStack> {
  const logger = createLogger(process.env.ECOC_TEST_LOG_LEVEL ?? 'warn');
  installTemporalRuntime(logger);
  const dataDir = mkdtempSync(join(tmpdir(), 'ecoc-audit-'));
  const database = await createTestDatabase();
  const db = createDatabase(database.url);
  const address = inject('temporalAddress');
  const config = loadConfig({ ECOC_DATA_DIR: dataDir, ECOC_TASK_QUEUE: `audit-${Math.random().toString(36).slice(2)}`, ECOC_AUDIT_CHECKPOINT_INTERVAL: '1h', TEMPORAL_ADDRESS: address, ...env });
  const signer = await openSoftwareSigner(await ensureSoftwareKey(dataDir));
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue: config.ECOC_TASK_QUEUE,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    // The production bundle's tracing interceptors export through this sink (a no-op without tracing).
    sinks: telemetry().workflowSinks,
    activities: createAuditActivities({ db, signer, config, logger }),
  });
  const running = worker.run();
  await startAuditWitness(client, config, logger);
  const witness = client.workflow.getHandle<typeof auditWitnessWorkflow>(auditWitnessWorkflowId(config.ECOC_TASK_QUEUE));
  // The witness checkpoints once as it starts; wait for that (the trail is empty) so it then sleeps
  // for the hour and every checkpoint of a test is one the test asked for.
  await witness.executeUpdate(checkpointNowUpdate);
  const superuser = new pg.Client({ connectionString: database.adminUrl });
  await superuser.connect();
  return {
    database,
    db,
    config,
    client,
    signer,
    dataDir,
    witness,
    async checkpoint() {
      const answer = await witness.executeUpdate(checkpointNowUpdate);
      if (answer.error || !answer.last) throw new Error(`no checkpoint: ${answer.error ?? 'nothing to commit to'}`);
      return answer.last;
    },
    verify: () => verifyAuditTrail({ db, config, client }),
    async tamper(sql, values = []) {
      await superuser.query('BEGIN');
      try {
        await superuser.query('SET LOCAL session_replication_role = replica');
        const result = await superuser.query(sql, values);
        await superuser.query('COMMIT');
        return result;
      } catch (error) {
        await superuser.query('ROLLBACK');
        throw error;
      }
    },
    async stop() {
      await witness.terminate('test over').catch(() => undefined);
      worker.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await connection.close();
      await superuser.end();
      await signer.close();
      await db.$disconnect();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
