import { z } from './openapi-zod.ts';

/** RFC 9457 problem details with a stable machine-readable `code` and the offending field paths. */
export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://ecoc-hub.dev/problems/invalid_request' }),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ description: 'Stable machine-readable error code', example: 'invalid_request' }),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem');

export type Problem = z.infer<typeof problemSchema>;
