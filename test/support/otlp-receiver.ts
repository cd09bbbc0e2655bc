import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import otlpProto from '@opentelemetry/otlp-transformer/build/src/generated/root.js';

/** One received span, flattened: ids as hex, the exporting process's service.name. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters append /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received, in order. */
  contentTypes: string[];
  stop(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string | { toString(): string };
  boolValue?: boolean;
  doubleValue?: number;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string | Uint8Array;
  spanId: string | Uint8Array;
  parentSpanId?: string | Uint8Array;
  name: string;
  kind: number;
  attributes?: KeyValue[];
}
interface ExportRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const ExportTraceServiceRequest = (otlpProto as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): unknown; toObject(message: unknown, options: object): unknown } } } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/**
 * A local OTLP/HTTP trace receiver: POST /v1/traces in protobuf (application/x-protobuf, the
 * exporters' default) or JSON (application/json, OTEL_EXPORTER_OTLP_PROTOCOL=http/json), decoded
 * as a collector would, answering 200 with an empty ExportTraceServiceResponse.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      try {
        const request: ExportRequest =
          type === 'application/json'
            ? (JSON.parse(body.toString('utf8')) as ExportRequest)
            : (ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, bytes: Array, defaults: false }) as ExportRequest);
        spans.push(...flatten(request));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${(error as Error).message}`);
        return;
      }
      res.writeHead(200, { 'content-type': type === 'application/json' ? 'application/json' : 'application/x-protobuf' }).end(type === 'application/json' ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A collector that is not there: accepts TCP connections and drops them at once, counting the attempts. */
export async function startDeadEndpoint(): Promise<{ url: string; attempts(): number; stop(): Promise<void> }> {
  let attempts = 0;
  const server: TcpServer = createTcpServer((socket) => {
    attempts += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, attempts: () => attempts, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

function flatten(request: ExportRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(attributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: hex(span.traceId)!,
        spanId: hex(span.spanId)!,
        parentSpanId: hex(span.parentSpanId),
        name: span.name,
        kind: span.kind,
        service,
        attributes: attributes(span.attributes),
      })),
    );
  });
}

/** JSON carries ids as hex strings; protobuf as bytes (here number arrays). Empty means "no parent". */
function hex(id: string | Uint8Array | number[] | undefined): string | undefined {
  if (id === undefined) return undefined;
  const text = typeof id === 'string' ? id : Buffer.from(id as Uint8Array).toString('hex');
  return text === '' ? undefined : text;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, value?.stringValue ?? value?.boolValue ?? value?.doubleValue ?? (value?.intValue !== undefined ? Number(String(value.intValue)) : undefined)]));
}
