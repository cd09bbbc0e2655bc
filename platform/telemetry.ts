import type { IncomingMessage } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Span } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { Config } from '../schemas/config/index.ts';
import type { Logger } from './logger.ts';

/**
 * Tracing with OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set: spans for incoming and outgoing HTTP (the API's
 * requests, the NAP and webhook calls), PostgreSQL queries, Temporal client calls, workflows and
 * activities (Temporal's OpenTelemetry interceptors; workflow spans leave the sandbox through a
 * sink), exported over OTLP/HTTP. One tracer provider per process, registered globally.
 *
 * The OpenTelemetry JS 1.x SDK line: @temporalio/interceptors-opentelemetry 1.24 builds workflow
 * spans in that line's shape (parentSpanId, instrumentationLibrary), which 2.x exporters drop.
 */
export interface Telemetry {
  enabled: boolean;
  /** For every Temporal Client of the process: StartWorkflow, update and signal spans, context in the headers. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** For the Worker: activity spans under the workflow's, trace ids in activity log attributes. */
  workerInterceptors: WorkerInterceptors;
  /** The `exporter` sink the bundled workflow interceptors call; a no-op when tracing is off. */
  workflowSinks: InjectedSinks<OpenTelemetrySinks>;
  /** Exports what is buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

const disabled: Telemetry = {
  enabled: false,
  clientInterceptors: [],
  workerInterceptors: {},
  workflowSinks: { exporter: { export: { fn: () => undefined } } },
  shutdown: async () => undefined,
};

let current: Telemetry = disabled;

/** This process's telemetry: what startTelemetry set up, else the disabled one. */
export function telemetry(): Telemetry {
  return current;
}

export type TracingConfig = Pick<
  Config,
  'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_EXPORTER_OTLP_PROTOCOL' | 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' | 'OTEL_SERVICE_NAME' | 'OTEL_SDK_DISABLED'
>;

/**
 * Starts tracing for this process once (later calls return the first result). The exporter reads
 * the endpoint, headers and timeout from the OTEL_* variables itself. The SDK is loaded only when
 * tracing is on: its modules take seconds to import, which every CLI command would pay.
 */
export async function startTelemetry(config: TracingConfig, logger: Logger, defaultServiceName: string): Promise<Telemetry> {
  if (current.enabled) return current;
  const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || config.OTEL_SDK_DISABLED === 'true') return current;
  const [
    { ExportResultCode },
    { OTLPTraceExporter: OtlpJsonExporter },
    { OTLPTraceExporter: OtlpProtobufExporter },
    { registerInstrumentations },
    { HttpInstrumentation },
    { PgInstrumentation },
    { UndiciInstrumentation },
    { envDetectorSync, Resource },
    { BatchSpanProcessor },
    { NodeTracerProvider },
    { OpenTelemetryWorkflowClientInterceptor },
    { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor },
  ] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@temporalio/interceptors-opentelemetry/lib/client/index.js'),
    import('@temporalio/interceptors-opentelemetry/lib/worker/index.js'),
  ]);
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  const log = logger.child({ component: 'telemetry' });
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': defaultServiceName }))
    .merge(envDetectorSync.detect());
  const exporter = new ReportingExporter(protocol === 'http/json' ? new OtlpJsonExporter() : new OtlpProtobufExporter(), log, endpoint, ExportResultCode.SUCCESS);
  const processor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes every few seconds would drown the traces that matter.
        ignoreIncomingRequestHook: (request) => /^\/(healthz|readyz|metrics)(\?|$)/.test(request.url ?? ''),
        applyCustomAttributesOnSpan: (span, request) => nameByRoute(span, request),
      }),
      new PgInstrumentation(),
      new UndiciInstrumentation(),
    ],
  });
  patchLoadedModules();
  log.info({ endpoint, protocol, serviceName: resource.attributes['service.name'] }, 'tracing on: spans exported over OTLP/HTTP');
  current = {
    enabled: true,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    workerInterceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    // Through the provider's batch processor, so workflow spans leave with the others.
    workflowSinks: { exporter: makeWorkflowExporter(processor, resource) },
    shutdown: () => provider.shutdown(),
  };
  return current;
}

/**
 * The app is ES modules: `import` does not pass through the require hooks the instrumentations
 * patch with, and the modules are loaded before this runs. Requiring them now applies the patches
 * to the shared module objects (pg's Client prototype, http's Server prototype and request
 * functions), and syncBuiltinESMExports hands the patched http/https functions to ESM importers.
 */
function patchLoadedModules(): void {
  const require = createRequire(import.meta.url);
  for (const name of ['node:http', 'node:https', 'pg']) require(name);
  syncBuiltinESMExports();
}

/** Express sets `req.route` when a route matched: name the server span `GET /api/v1/certificates/:id` rather than `GET`. */
function nameByRoute(span: Span, request: unknown): void {
  const { method, baseUrl, route } = request as IncomingMessage & { baseUrl?: string; route?: { path?: unknown } };
  if (typeof route?.path !== 'string' || !method) return;
  const path = `${baseUrl ?? ''}${route.path}`;
  span.setAttribute('http.route', path);
  span.updateName(`${method} ${path}`);
}

/**
 * An unreachable or refusing collector must not flood the log or stop the app: the first failed
 * export of an outage is logged (once), spans are dropped meanwhile, and recovery is logged.
 */
class ReportingExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly endpoint: string,
    /** ExportResultCode.SUCCESS, from the lazily loaded SDK. */
    private readonly success: number,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== this.success && !this.failing) {
        this.failing = true;
        this.logger.warn({ endpoint: this.endpoint, err: result.error }, 'OTLP trace export failed: spans are dropped until the collector answers (logged once per outage)');
      } else if (result.code === this.success && this.failing) {
        this.failing = false;
        this.logger.info({ endpoint: this.endpoint }, 'OTLP trace export works again');
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
