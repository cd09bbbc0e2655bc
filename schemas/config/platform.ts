import { z } from 'zod';
import { port, optionalUrl } from './types.ts';

/** `host:port`, as the Temporal SDKs take it. */
export const temporalAddress = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

/** Where the stack runs and which servers it uses; unset servers are started embedded. */
export const platformConfigSchema = z.object({
  ECOC_DATA_DIR: z.string().min(1).default('.data'),
  ECOC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Your own Temporal server (the embedded dev server otherwise). The connection follows the
   * Temporal SDKs' environment configuration (@temporalio/envconfig): these variables override the
   * profile TEMPORAL_PROFILE (else `default`) of the TOML file TEMPORAL_CONFIG_FILE (else
   * ~/.config/temporalio/temporal.toml); platform/temporal/connection-options.ts resolves and checks them.
   */
  TEMPORAL_ADDRESS: temporalAddress.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  /** Temporal Cloud API key (sent as a bearer token; implies TLS). */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** `true`/`1` or `false`/`0`: force TLS on (system CAs) or off; unset, TLS is on when any TLS setting or an API key is given. */
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  /** The name the server's certificate must carry, when it differs from TEMPORAL_ADDRESS's host (also the SNI). */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  ECOC_TEMPORAL_PORT: port.default(7233),
  ECOC_TEMPORAL_UI_PORT: port.default(8233),
  ECOC_TASK_QUEUE: z.string().min(1).default('ecoc'),
  /**
   * Workflows the worker keeps in memory (Temporal's sticky cache). A certificate not cached is
   * replayed from its history when it next moves, so parked certificates need not stay cached.
   * Unset: sized from ECOC_WORKER_MEMORY_MIB (platform/temporal/worker.ts `workflowMemory`).
   */
  ECOC_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2).max(100_000).optional(),
  /** The worker process's memory budget (resident MiB): sizes its workflow cache and the workflow thread's heap. */
  ECOC_WORKER_MEMORY_MIB: z.coerce.number().int().min(512).max(1_048_576).default(1024),
  /** The app's connection: a role that owns nothing (platform/database/roles.ts). */
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  /** The schema owner's connection, used only to apply migrations and grant the app role its rights. */
  ECOC_DATABASE_OWNER_URL: optionalUrl(['postgres:', 'postgresql:']),
  ECOC_POSTGRES_PORT: port.default(54329),
  ECOC_API_HOST: z.string().min(1).default('127.0.0.1'),
  ECOC_API_PORT: port.default(3000),
});
