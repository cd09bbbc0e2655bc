import type { RequestHandler } from 'express';
import { authenticateApiKey, lastUsedRecorder, looksLikeApiKey } from '../../auth/api-keys.ts';
import type { OidcVerifier } from '../../auth/oidc.ts';
import type { Database } from '../../platform/database/prisma.ts';
import { HttpProblem } from '../problem.ts';
import type { TokenBuckets } from './rate-limit.ts';

const keyRejections = {
  malformed: 'the API key is malformed',
  unknown: 'the API key is not known',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired',
} as const;

/**
 * `Authorization: Bearer <token>`: an API key (`ecoc_…`) or, when OIDC is configured, a JWT.
 * Failed attempts draw from the client address's rate-limit bucket, so guessing is throttled.
 */
export function authenticate(deps: { db: Database; oidc: OidcVerifier | undefined; failures: TokenBuckets }): RequestHandler {
  const recordUse = lastUsedRecorder(deps.db);
  return async (req, res, next) => {
    const refuse = (message: string) => {
      res.setHeader('WWW-Authenticate', 'Bearer realm="ecoc-hub"');
      const wait = deps.failures.take(`ip:${req.ip}`);
      if (wait > 0) {
        res.setHeader('Retry-After', String(Math.ceil(wait)));
        return next(new HttpProblem(429, 'rate_limited', `Too many failed authentications; retry after ${Math.ceil(wait)} s`));
      }
      next(new HttpProblem(401, 'unauthenticated', `Authentication required: ${message}`));
    };
    try {
      const header = req.get('authorization');
      const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
      if (!token) return refuse('send Authorization: Bearer <API key or token>');
      if (looksLikeApiKey(token)) {
        const check = await authenticateApiKey(deps.db, token);
        if (!check.ok) return refuse(keyRejections[check.reason]);
        req.principal = check.principal;
        recordUse(check.keyId);
      } else {
        if (!deps.oidc) return refuse('bearer tokens are not enabled (no OIDC provider configured); use an API key');
        const check = await deps.oidc(token);
        if (!check.ok) return refuse(check.reason);
        req.principal = check.principal;
      }
      req.log = req.log.child({ subject: req.principal.subject });
      next();
    } catch (error) {
      next(error);
    }
  };
}
