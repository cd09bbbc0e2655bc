import { z } from 'zod';
import { platformConfigSchema } from './platform.ts';

/**
 * The whole configuration, read from environment variables. Each concern adds its own section
 * file here; the names follow the `ECOC_` convention (ecosystem names where they exist).
 */
export const configSchema = platformConfigSchema;

export type Config = z.infer<typeof configSchema>;
