// A worker process for the bare workflow (bench/support/bare-workflow.ts) with a no-op activity:
// the engine's cost without the application's. Environment: TEMPORAL_ADDRESS, ECOC_TASK_QUEUE.
// Run: node --import tsx bench/support/bare-worker.ts
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger } from '../../platform/logger.ts';
import { installTemporalRuntime } from '../../platform/temporal/runtime.ts';

const address = process.env.TEMPORAL_ADDRESS;
const taskQueue = process.env.ECOC_TASK_QUEUE;
if (!address || !taskQueue) throw new Error('bare-worker.ts needs TEMPORAL_ADDRESS and ECOC_TASK_QUEUE');
installTemporalRuntime(createLogger('warn'));
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./bare-workflow.ts', import.meta.url)),
  activities: { noop: async () => undefined },
});
process.once('SIGTERM', () => worker.shutdown());
await worker.run();
// The connection keeps the process alive after the worker stops.
await connection.close();
