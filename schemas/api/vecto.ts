import { FREE_TEXT_MAX, text } from '../text.ts';
import { z } from './openapi-zod.ts';

/**
 * CIF and MRF as JSON strings: XML text under the text rule, each at most `maxXmlBytes`
 * characters (ECOC_XML_MAX_BYTES; the XML reader also counts its UTF-8 bytes).
 */
export function vectoUploadBodySchema(maxXmlBytes: number) {
  return z
    .object({
      cif: text({ min: 1, max: maxXmlBytes }).openapi({ description: 'The Customer Information File (XML text, UTF-8)' }),
      mrf: text({ min: 1, max: maxXmlBytes }).openapi({ description: 'The Manufacturer’s Records File (XML text, UTF-8)' }),
      vocational: z.boolean().optional().openapi({ description: 'Which CIF result summary applies when it has vocational and non-vocational ones' }),
    })
    .strict()
    .openapi('VectoUpload', {
      example: {
        cif: '<?xml version="1.0" encoding="UTF-8"?><VectoOutputCustomer xmlns="urn:tugraz:ivt:VectoAPI:CustomerOutput:v0.9">…</VectoOutputCustomer>',
        mrf: '<?xml version="1.0" encoding="UTF-8"?><VectoOutput xmlns="urn:tugraz:ivt:VectoAPI:MRF:v0.9">…</VectoOutput>',
      },
    });
}

export const vectoImportParamsSchema = z.object({ importId: z.uuid() });

export const vectoConfirmBodySchema = z
  .object({
    proposalPaths: z
      .array(text({ min: 1, max: 300 }))
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: 'The proposals to accept; all when omitted' }),
    reason: text({ trim: true, min: 1, max: FREE_TEXT_MAX }).optional(),
  })
  .strict()
  .openapi('VectoConfirmation', { example: { reason: 'Matches the signed VECTO results' } });
