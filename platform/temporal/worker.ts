import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from '../logger.ts';
import { connectTemporalNative, type TemporalConnectionOptions } from './connection.ts';
import { installTemporalRuntime } from './runtime.ts';
import { WORKFLOWS_PATH } from './workflows-path.ts';

export interface WorkerSettings {
  /** From temporalConnectionOptions(): address, TLS, API key. */
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
  activities: object;
  logger: Logger;
  /** A pre-built bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>;
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped polling and finished in-flight tasks. */
  stop(): Promise<void>;
}

/** Creates and starts a Worker; `stop()` drains it and closes its connection. */
export async function startWorker(settings: WorkerSettings): Promise<RunningWorker> {
  installTemporalRuntime(settings.logger);
  const connection = await connectTemporalNative(settings.connection);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    activities: settings.activities,
    ...(settings.workflowBundlePath ? { workflowBundle: { codePath: settings.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    ...settings.tuning,
  });
  const running = worker.run();
  running.catch((error: unknown) => settings.logger.error({ err: error }, 'worker stopped with an error'));
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}
