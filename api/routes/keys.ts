import { createApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from '../../auth/api-keys.ts';
import { apiKeySchema, createdKeySchema, createKeyBodySchema, keyListSchema, keyParamsSchema, whoAmISchema } from '../../schemas/api/keys.ts';
import type { z } from '../../schemas/api/openapi-zod.ts';
import type { RouteModule } from '../context.ts';
import { notFound } from '../problem.ts';
import { auditApiAction } from '../request-context.ts';

/** API keys (admin) and who the caller is (anyone authenticated). */
export const keyRoutes: RouteModule = (table, { db }) => {
  table.add({
    method: 'get',
    path: '/api/v1/me',
    operationId: 'whoAmI',
    summary: 'The authenticated caller: subject, credential, roles and manufacturer scope',
    tag: 'access',
    access: 'authenticated',
    responses: { 200: { description: 'The caller', schema: whoAmISchema } },
    handler({ res, principal }) {
      res.json(principal);
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/keys',
    operationId: 'createApiKey',
    summary: 'Create an API key (the token is shown once)',
    tag: 'access',
    access: 'keys.manage',
    body: createKeyBodySchema,
    responses: { 201: { description: 'The key; store the token now, it is not kept', schema: createdKeySchema } },
    async handler({ req, res, body, principal }) {
      const created = await createApiKey(db, {
        subject: body.subject,
        description: body.description,
        roles: body.roles,
        manufacturers: body.manufacturers,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
        createdBy: principal.subject,
      });
      await auditApiAction(db, req, 'key_created', null, { keyId: created.key.keyId, subject: body.subject, roles: body.roles, manufacturers: body.manufacturers, expiresAt: body.expiresAt ?? null });
      res.status(201).json({ token: created.token, key: view(created.key) });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (without secrets)',
    tag: 'access',
    access: 'keys.manage',
    responses: { 200: { description: 'All keys, revoked ones included', schema: keyListSchema } },
    async handler({ res }) {
      res.json({ keys: (await listApiKeys(db)).map(view) });
    },
  });

  table.add({
    method: 'post',
    path: '/api/v1/keys/:keyId/revoke',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key (effective for the next request)',
    tag: 'access',
    access: 'keys.manage',
    params: keyParamsSchema,
    responses: { 200: { description: 'The revoked key', schema: apiKeySchema }, 404: { description: 'No such key' } },
    async handler({ req, res, params, principal }) {
      const key = await revokeApiKey(db, params.keyId, principal.subject);
      if (!key) throw notFound(`API key ${params.keyId}`);
      await auditApiAction(db, req, 'key_revoked', null, { keyId: key.keyId, subject: key.subject });
      res.json(view(key));
    },
  });
};

export function view(key: ApiKeyInfo): z.input<typeof apiKeySchema> {
  return {
    ...key,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}
