import { Runtime, makeTelemetryFilterString, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../logger.ts';

let installed = false;
let metricsAddress: string | undefined;

const levelName: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export interface RuntimeOptions {
  /**
   * `host:port` for the SDK's Prometheus exporter (worker task slots, poll and schedule-to-start
   * latencies, sticky cache, activity and workflow task outcomes). Keep it on loopback: the API's
   * authenticated /metrics appends its text.
   */
  metricsBindAddress?: string;
}

/**
 * Installs the SDK runtime once per process: SDK, workflow and activity logs go through pino,
 * and the stack (not the SDK) owns signal handling so shutdown happens in order. Only the first
 * call's options count (the SDK allows one runtime per process).
 */
export function installTemporalRuntime(logger: Logger, options: RuntimeOptions = {}): void {
  if (installed) return;
  installed = true;
  metricsAddress = options.metricsBindAddress;
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
      ...(options.metricsBindAddress ? { metrics: { prometheus: { bindAddress: options.metricsBindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } : {}),
    },
  });
}

/** Where the SDK's Prometheus exporter listens in this process, if the runtime was installed with one. */
export function temporalMetricsAddress(): string | undefined {
  return metricsAddress;
}
