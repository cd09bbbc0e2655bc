import { z } from 'zod';
import { duration, optionalUrl } from './types.ts';

/** The OTLP transports this app exports with (OTLP over HTTP; gRPC is not bundled). */
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], { message: 'expected http/protobuf or http/json (OTLP over gRPC is not supported: point at the collector\'s HTTP port, usually 4318)' });

/**
 * Running in production: the pre-built workflow bundle, the worker's shutdown grace, and tracing
 * (OpenTelemetry's own variable names; the OTLP exporter also reads OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT, _COMPRESSION, and the SDK OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*).
 */
export const operationsConfigSchema = z.object({
  /** A workflow bundle made by `npm run build` (the image sets it); unset, the worker bundles the sources at start. */
  ECOC_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /**
   * How long a stopping worker (SIGTERM) lets running activities finish before they are cancelled
   * and left to Temporal to retry on another worker. Keep it below the orchestrator's kill timeout
   * (compose stop_grace_period, Kubernetes terminationGracePeriodSeconds).
   */
  ECOC_WORKER_SHUTDOWN_GRACE: duration
    .default(30_000)
    .refine((ms) => ms >= 1_000 && ms <= 3_600_000, 'expected between 1s and 1h'),
  /** Tracing is on when either endpoint is set: the base URL (…/v1/traces is appended) or the traces URL as is. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http:', 'https:']),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl(['http:', 'https:']),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  /** Default: ecoc-worker, ecoc-api or ecoc-hub (both roles in one process). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** `true` switches tracing off even with an endpoint set. */
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).optional(),
});
