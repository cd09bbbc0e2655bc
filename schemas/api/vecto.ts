import { z } from './openapi-zod.ts';

export const vectoUploadBodySchema = z
  .object({
    cif: z.string().min(1).openapi({ description: 'The Customer Information File (XML text)' }),
    mrf: z.string().min(1).openapi({ description: 'The Manufacturer’s Records File (XML text)' }),
    vocational: z.boolean().optional().openapi({ description: 'Which CIF result summary applies when it has vocational and non-vocational ones' }),
  })
  .strict()
  .openapi('VectoUpload');

export const vectoImportParamsSchema = z.object({ importId: z.uuid() });

export const vectoConfirmBodySchema = z
  .object({
    proposalPaths: z.array(z.string().min(1)).min(1).optional().openapi({ description: 'The proposals to accept; all when omitted' }),
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .strict()
  .openapi('VectoConfirmation');
