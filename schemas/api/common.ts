import { z } from './openapi-zod.ts';

/** A certificate id is its workflow id: `ecoc-<VIN>-s<stage>`. */
export const certificateIdSchema = z
  .string()
  .regex(/^ecoc-[A-HJ-NPR-Z0-9]{17}-s\d{1,3}$/, 'expected a certificate id such as ecoc-WVWZZZ1JZXW000001-s1')
  .openapi({ example: 'ecoc-WVWZZZ1JZXW000001-s1' });

export const certificateParamsSchema = z.object({ certificateId: certificateIdSchema });

export const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });
