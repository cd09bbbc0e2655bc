import { certificateStatuses, roles } from '../certificate.ts';
import { z } from './openapi-zod.ts';

/** What `POST /api/v1/demo` answers: demo/load.ts's DemoResult. */
export const demoResultSchema = z
  .object({
    manufacturerId: z.string(),
    typeApproval: z.object({
      id: z.string(),
      number: z.string(),
      revisionId: z.string(),
      versions: z.array(z.object({ variant: z.string(), version: z.string() })),
    }),
    keys: z
      .record(z.enum(roles), z.string())
      .nullable()
      .openapi({ description: 'One API key per role, shown this once; null when the demo was loaded before' }),
    destination: z.string().nullable(),
    certificates: z.partialRecord(z.enum(certificateStatuses), z.number().int()),
    alreadyLoaded: z.boolean(),
  })
  .openapi('DemoResult');

export type DemoResultView = z.infer<typeof demoResultSchema>;
