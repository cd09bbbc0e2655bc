import type { z } from 'zod';
import { apiConfigSchema } from './api.ts';
import { auditConfigSchema } from './audit.ts';
import { consoleConfigSchema } from './console.ts';
import { destinationsConfigSchema } from './destinations.ts';
import { inboxConfigSchema } from './inbox.ts';
import { iviConfigSchema } from './ivi.ts';
import { lifecycleConfigSchema } from './lifecycle.ts';
import { operationsConfigSchema } from './operations.ts';
import { platformConfigSchema } from './platform.ts';
import { releaseConfigSchema } from './release.ts';
import { signingConfigSchema } from './signing.ts';
import { webhooksConfigSchema } from './webhooks.ts';

/**
 * The whole configuration, read from environment variables. Each concern adds its own section
 * file here; the names follow the `ECOC_` convention (ecosystem names where they exist).
 */
export const configSchema = platformConfigSchema.extend(lifecycleConfigSchema.shape).extend(destinationsConfigSchema.shape).extend(signingConfigSchema.shape).extend(iviConfigSchema.shape).extend(inboxConfigSchema.shape).extend(apiConfigSchema.shape).extend(releaseConfigSchema.shape).extend(consoleConfigSchema.shape).extend(auditConfigSchema.shape).extend(webhooksConfigSchema.shape).extend(operationsConfigSchema.shape);

export type Config = z.infer<typeof configSchema>;
