import { z } from 'zod';
import { duration, optionalUrl, port } from './types.ts';

const optionalText = z.string().min(1).optional();

/** Body sizes as Express understands them: `100kb`, `1mb`. */
const byteSize = z.string().regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 512kb or 2mb');

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
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;
