import { context, trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger per process; each part of the stack logs through a child with its `component`. */
export function createLogger(level: string = process.env.ECOC_LOG_LEVEL ?? 'info', fd: 1 | 2 = 1): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, mixin: traceFields }, pino.destination({ fd, sync: true }));
}

/**
 * `trace_id` and `span_id` of the active span (platform/telemetry.ts) on every log line written
 * inside one, so logs and traces join; nothing when tracing is off or outside a span.
 */
function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
