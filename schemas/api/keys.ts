import { roles } from '../certificate.ts';
import { id, text } from '../text.ts';
import { z } from './openapi-zod.ts';

const timestamp = z.string().openapi({ format: 'date-time' });

export const manufacturerScopeSchema = z
  .array(z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/, 'a manufacturer id, or * for all'))
  .min(1)
  .max(1000)
  .openapi({ description: 'Manufacturer ids the credential may see; ["*"] for all', example: ['acme'] });

export const createKeyBodySchema = z
  .object({
    subject: id({ trim: true }).openapi({ description: 'Who acts with the key (actor id in workflow decisions and audit records)' }),
    description: text({ max: 500 }).optional(),
    roles: z.array(z.enum(roles)).min(1),
    manufacturers: manufacturerScopeSchema,
    expiresAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Default: never' }),
  })
  .strict()
  .openapi('CreateApiKeyRequest', { example: { subject: 'rita', description: 'Reviewer at ACME', roles: ['reviewer'], manufacturers: ['acme'] } });

export const apiKeySchema = z
  .object({
    keyId: z.string(),
    subject: z.string(),
    description: z.string().nullable(),
    roles: z.array(z.enum(roles)),
    manufacturers: z.array(z.string()),
    createdBy: z.string(),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    revokedBy: z.string().nullable(),
    lastUsedAt: timestamp.nullable(),
  })
  .openapi('ApiKey');

export const createdKeySchema = z
  .object({ token: z.string().openapi({ description: 'The key itself: shown once, store it now' }), key: apiKeySchema })
  .openapi('CreatedApiKey');

export const keyListSchema = z.object({ keys: z.array(apiKeySchema) }).openapi('ApiKeyList');

export const keyParamsSchema = z.object({ keyId: z.string().regex(/^[0-9a-f]{16}$/, 'expected a 16-hex-digit key id') });

export const whoAmISchema = z
  .object({
    subject: z.string(),
    credential: z.union([z.object({ kind: z.literal('api_key'), keyId: z.string() }), z.object({ kind: z.literal('oidc'), issuer: z.string() })]),
    roles: z.array(z.enum(roles)),
    manufacturers: z.array(z.string()),
  })
  .openapi('WhoAmI');
