import { z } from './openapi-zod.ts';

export const livenessSchema = z.object({ status: z.literal('ok') }).openapi('Liveness');

export const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(
      z.string(),
      z.object({
        ok: z.boolean(),
        detail: z.string(),
        /** false: advisory (worker presence, signing certificate); reported, never makes the answer 503. */
        required: z.boolean().optional(),
        data: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  })
  .openapi('Readiness');
