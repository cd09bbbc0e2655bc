import { z } from 'zod';
import { port, optionalUrl } from './types.ts';

/** Where the stack runs and which servers it uses; unset servers are started embedded. */
export const platformConfigSchema = z.object({
  ECOC_DATA_DIR: z.string().min(1).default('.data'),
  ECOC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  ECOC_TEMPORAL_PORT: port.default(7233),
  ECOC_TEMPORAL_UI_PORT: port.default(8233),
  ECOC_TASK_QUEUE: z.string().min(1).default('ecoc'),
  /** The app's connection: a role that owns nothing (platform/database/roles.ts). */
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  /** The schema owner's connection, used only to apply migrations and grant the app role its rights. */
  ECOC_DATABASE_OWNER_URL: optionalUrl(['postgres:', 'postgresql:']),
  ECOC_POSTGRES_PORT: port.default(54329),
  ECOC_API_HOST: z.string().min(1).default('127.0.0.1'),
  ECOC_API_PORT: port.default(3000),
});
