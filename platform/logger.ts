import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger per process; each part of the stack logs through a child with its `component`. */
export function createLogger(level: string = process.env.ECOC_LOG_LEVEL ?? 'info', fd: 1 | 2 = 1): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd, sync: true }));
}
