import { Runtime, makeTelemetryFilterString, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../logger.ts';

let installed = false;

const levelName: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Installs the SDK runtime once per process: SDK, workflow and activity logs go through pino,
 * and the stack (not the SDK) owns signal handling so shutdown happens in order.
 */
export function installTemporalRuntime(logger: Logger): void {
  if (installed) return;
  installed = true;
  const log = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    shutdownSignals: [],
    logger: {
      log: (level: LogLevel, message: string, meta?: LogMetadata) => log[levelName[level]](meta ?? {}, message),
      trace: (message: string, meta?: LogMetadata) => log.trace(meta ?? {}, message),
      debug: (message: string, meta?: LogMetadata) => log.debug(meta ?? {}, message),
      info: (message: string, meta?: LogMetadata) => log.info(meta ?? {}, message),
      warn: (message: string, meta?: LogMetadata) => log.warn(meta ?? {}, message),
      error: (message: string, meta?: LogMetadata) => log.error(meta ?? {}, message),
    },
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
    },
  });
}
