import type { Request } from 'express';
import { createApiKey, listApiKeys, revokeApiKey, type ApiKeyInfo } from '../../auth/api-keys.ts';
import { RefusedError } from '../../auth/permissions.ts';
import { apiKeySchema, createdKeySchema, createKeyBodySchema, keyListSchema, keyParamsSchema, whoAmISchema } from '../../schemas/api/keys.ts';
import type { z } from '../../schemas/api/openapi-zod.ts';
import type { RouteModule } from '../context.ts';
import { auditApiAction } from '../request-context.ts';

/**
 * API keys (admin) and who the caller is (anyone authenticated). A caller never grants or sees
 * more than it has: a new key's roles and manufacturers lie within the caller's, and listing and
 * revoking see only keys within the caller's manufacturers (auth/api-keys.ts, keyWithinScope).
 */
export const keyRoutes: RouteModule = (table, { db }) => {
  /** A refused key action is an audit record too (an attempt to reach beyond one's scope is worth knowing). */
  const refusalsAudited = async <T>(req: Request, action: string, detail: Record<string, unknown>, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof RefusedError) await auditApiAction(db, req, action, null, { ...detail, outcome: 'refused', kind: error.kind, message: error.message });
      throw error;
    }
  };

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
    description:
      'The roles and manufacturers may not exceed the caller’s (403 otherwise; `*` only from a `*` caller). The subject is stored normalised ' +
      '(trimmed, Unicode NFC, case-folded): use the person’s OIDC subject value, so both credentials are one actor.',
    tag: 'access',
    access: 'keys.manage',
    body: createKeyBodySchema,
    responses: { 201: { description: 'The key; store the token now, it is not kept', schema: createdKeySchema } },
    async handler({ req, res, body, principal }) {
      const spec = {
        subject: body.subject,
        description: body.description,
        roles: body.roles,
        manufacturers: body.manufacturers,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
        createdBy: principal.subject,
      };
      const created = await refusalsAudited(req, 'key_created', { subject: body.subject, roles: body.roles, manufacturers: body.manufacturers }, () => createApiKey(db, spec, principal));
      await auditApiAction(db, req, 'key_created', null, { keyId: created.key.keyId, subject: created.key.subject, roles: body.roles, manufacturers: body.manufacturers, expiresAt: body.expiresAt ?? null });
      res.status(201).json({ token: created.token, key: view(created.key) });
    },
  });

  table.add({
    method: 'get',
    path: '/api/v1/keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (without secrets) within your manufacturers',
    tag: 'access',
    access: 'keys.manage',
    responses: { 200: { description: 'The keys whose manufacturers are all within yours, revoked ones included', schema: keyListSchema } },
    async handler({ res, principal }) {
      res.json({ keys: (await listApiKeys(db, principal)).map(view) });
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
    responses: { 200: { description: 'The revoked key', schema: apiKeySchema }, 404: { description: 'No such key, or one outside your manufacturers' } },
    async handler({ req, res, params, principal }) {
      const key = await refusalsAudited(req, 'key_revoked', { keyId: params.keyId }, async () => {
        const revoked = await revokeApiKey(db, params.keyId, principal.subject, principal);
        // A key outside the caller's scope answers exactly like a missing one.
        if (!revoked) throw new RefusedError('not_found', `API key ${params.keyId} was not found`);
        return revoked;
      });
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
