import { certificateIdSchema as certificateId } from '../certificate-id.ts';
import { z } from './openapi-zod.ts';

/**
 * A certificate id is its workflow id: `ecoc-<VIN>-s<stage>`; pattern and stage range from
 * schemas/certificate-id.ts. zod's own `.meta` (read by zod-to-openapi): that schema may be
 * created before `.openapi` is installed.
 */
export const certificateIdSchema = certificateId.meta({ example: 'ecoc-WVWZZZ1JZXW000001-s1' });

export const certificateParamsSchema = z.object({ certificateId: certificateIdSchema });

export const fieldErrorSchema = z.object({ path: z.string(), message: z.string() });
