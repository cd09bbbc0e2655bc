import { isIP } from 'node:net';
import { z } from 'zod';
import { duration, optionalUrl, port } from './types.ts';

const optionalText = z.string().min(1).optional();

/** Body sizes as Express understands them: `100kb`, `1mb`. */
const byteSize = z.string().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 512kb or 2mb');

/** Express's names for address ranges in `trust proxy`. */
const proxyRangeNames = ['loopback', 'linklocal', 'uniquelocal'];

function isProxyAddress(entry: string): boolean {
  if (proxyRangeNames.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (!version || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (isIP(prefix) === version) return true; // a netmask
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Which proxies' `X-Forwarded-For` decides the client address (rate limits, failed-login
 * throttling, logs): none by default, so a client cannot pick its own address. A hop count
 * (`1`: the address the nearest proxy saw) or a comma-separated list of proxy addresses, CIDR
 * ranges or `loopback`/`linklocal`/`uniquelocal`, as Express's `trust proxy` takes them. `true`
 * (trust every hop) is refused: any client could then choose its address.
 */
const trustProxy = z
  .string()
  .trim()
  .optional()
  .transform((text, context): false | number | string[] => {
    if (text === undefined || text === '' || ['false', 'off', 'none', '0'].includes(text.toLowerCase())) return false;
    if (/^\d+$/.test(text)) return Number(text);
    const entries = text.split(',').map((entry) => entry.trim());
    const invalid = entries.filter((entry) => !isProxyAddress(entry));
    if (invalid.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `expected a hop count, or proxy addresses, CIDR ranges or loopback/linklocal/uniquelocal separated by commas (not ${invalid.map((entry) => JSON.stringify(entry)).join(', ')})`,
      });
      return z.NEVER;
    }
    return entries;
  });

/**
 * The HTTP API: limits, rate limiting and who may call it. API keys live in the database (`ecoc
 * keys ...`); OIDC bearer tokens are accepted when ECOC_OIDC_JWKS_URL is set, with roles and
 * manufacturers read from the named claims (dot paths such as `realm_access.roles` work).
 */
export const apiConfigSchema = z.object({
  /** JSON bodies (ingest, reviews); VECTO uploads are bounded by ECOC_XML_MAX_BYTES per file instead. */
  ECOC_API_BODY_LIMIT: byteSize.default('2mb'),
  /** Token bucket per credential (and per client address before authentication). */
  ECOC_API_RATE_PER_SECOND: z.coerce.number().positive().default(50),
  ECOC_API_RATE_BURST: z.coerce.number().int().min(1).default(200),
  /** A request that has not answered by then gets 503 (exports stream and are exempt). */
  ECOC_API_REQUEST_TIMEOUT: duration.prefault('30s'),
  /** Proxies trusted for `X-Forwarded-For` (off by default): a hop count or a list of addresses/ranges. */
  ECOC_TRUST_PROXY: trustProxy,
  /** Records per `POST /api/v1/vehicles` call. */
  ECOC_API_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(1_000),
  ECOC_OIDC_JWKS_URL: optionalUrl(['http:', 'https:']),
  ECOC_OIDC_ISSUER: optionalText,
  ECOC_OIDC_AUDIENCE: optionalText,
  ECOC_OIDC_SUBJECT_CLAIM: z.string().min(1).default('sub'),
  ECOC_OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  ECOC_OIDC_MANUFACTURERS_CLAIM: z.string().min(1).default('manufacturers'),
  /**
   * Loopback port where the Temporal SDK's Prometheus exporter listens in a worker process; /metrics
   * appends its text. 0 picks a free port.
   */
  ECOC_TEMPORAL_METRICS_PORT: port.default(0),
  /**
   * The worker role's own operations port: /healthz, /readyz, /metrics (activity and Temporal SDK
   * metrics, no business data, no credential). 0 picks a free port. In a container, bind to
   * 0.0.0.0 for the orchestrator's probes and Prometheus.
   */
  ECOC_WORKER_OPS_HOST: z.string().min(1).default('127.0.0.1'),
  ECOC_WORKER_OPS_PORT: port.default(3001),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;
