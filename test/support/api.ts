import { Registry } from 'prom-client';
import { createApp, type Api } from '../../api/app.ts';
import { listen, type RunningApi } from '../../api/server.ts';
import { createApiKey } from '../../auth/api-keys.ts';
import { createOidcVerifier } from '../../auth/oidc.ts';
import type { Config } from '../../schemas/config/index.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../platform/ports.ts';
import { databaseProbe } from '../../platform/readiness.ts';
import { signingCertificateProbe } from '../../api/signing-probe.ts';
import { SigningCertificateMonitor } from '../../signing/certificate-monitor.ts';
import { temporalMetricsAddress } from '../../platform/temporal/runtime.ts';
import type { Role } from '../../schemas/certificate.ts';
import { startLifecycleHarness, type LifecycleHarness } from './lifecycle.ts';

export interface ApiHarness {
  lifecycle: LifecycleHarness;
  api: Api;
  url: string;
  /** An API key created directly in the database (as `ecoc keys create` does). */
  key(subject: string, roles: Role[], manufacturers?: string[], options?: { expiresAt?: Date }): Promise<string>;
  call(method: string, path: string, options?: { token?: string | undefined; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON when the answer is JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The real API (createApp, as startApplication builds it) over the lifecycle harness's Temporal, PostgreSQL and worker. */
export async function startApiHarness(options: { env?: Record<string, string> } = {}): Promise<ApiHarness> {
  const lifecycle = await startLifecycleHarness({ env: options.env });
  // The harness's configuration (destinations, data dir, task queue); rate limits out of the way (tested on their own app).
  const config: Config = { ...lifecycle.config, ECOC_API_RATE_PER_SECOND: 10_000, ECOC_API_RATE_BURST: 10_000 };
  const metrics = new Registry();
  const signing = new SigningCertificateMonitor({ certificatePem: lifecycle.signer.certificatePem, warnDays: config.ECOC_SIGNING_CERT_WARN_DAYS, registry: metrics });
  const api = createApp({
    db: lifecycle.db,
    client: lifecycle.client,
    taskQueue: lifecycle.taskQueue,
    review: lifecycle.review,
    config,
    logger: createLogger(process.env.ECOC_TEST_LOG_LEVEL ?? 'warn').child({ component: 'api' }),
    readinessProbes: { database: databaseProbe(lifecycle.db), signingCertificate: signingCertificateProbe(signing) },
    metrics,
    oidc: createOidcVerifier(config),
    temporalMetricsAddress: temporalMetricsAddress(),
  });
  const running: RunningApi = await listen(api.app, '127.0.0.1', await freePort());
  const call: ApiHarness['call'] = async (method, path, { token, body, raw, headers = {} } = {}) => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, text, json: type.includes('json') && text ? JSON.parse(text) : undefined };
  };
  return {
    lifecycle,
    api,
    url: running.url,
    async key(subject, roles, manufacturers = ['acme'], keyOptions = {}) {
      const { token } = await createApiKey(lifecycle.db, { subject, roles, manufacturers, createdBy: 'test', expiresAt: keyOptions.expiresAt });
      return token;
    },
    call,
    async stop() {
      await running.stop();
      await lifecycle.stop();
    },
  };
}

