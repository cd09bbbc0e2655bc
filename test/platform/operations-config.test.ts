import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../platform/config.ts';

/** The production settings of schemas/config/operations.ts: validated at start, naming the variable. */
describe('operations configuration', () => {
  it('defaults: no pre-built bundle, 30 s shutdown grace, tracing off', () => {
    const config = loadConfig({});
    expect(config.ECOC_WORKFLOW_BUNDLE).toBeUndefined();
    expect(config.ECOC_WORKER_SHUTDOWN_GRACE).toBe(30_000);
    expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('takes a grace between 1s and 1h', () => {
    expect(loadConfig({ ECOC_WORKER_SHUTDOWN_GRACE: '2m' }).ECOC_WORKER_SHUTDOWN_GRACE).toBe(120_000);
    for (const value of ['500ms', '2h', 'soon']) {
      expect(() => loadConfig({ ECOC_WORKER_SHUTDOWN_GRACE: value }), value).toThrow(ConfigError);
      expect(() => loadConfig({ ECOC_WORKER_SHUTDOWN_GRACE: value }), value).toThrow(/ECOC_WORKER_SHUTDOWN_GRACE/);
    }
  });

  it('refuses an OTLP endpoint that is not http(s) and the gRPC protocol, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL starting with http:\/\/ or https:\/\//);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: expected http\/protobuf or http\/json .*4318/);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toMatchObject({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/v1/traces',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
  });
});
