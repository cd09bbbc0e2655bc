import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ApiConfig } from '../schemas/config/api.ts';
import { validRoles } from './api-keys.ts';
import { normaliseSubject, type Principal } from './principal.ts';

export class OidcConfigurationError extends Error {
  override name = 'OidcConfigurationError';
}

export type TokenCheck = { ok: true; principal: Principal } | { ok: false; reason: string };

export type OidcVerifier = (token: string) => Promise<TokenCheck>;

/** Asymmetric algorithms only: a shared-secret (HS*) token could be minted by anyone who holds the secret. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Verifies people's bearer tokens against the identity provider's JWKS (fetched and cached by
 * jose, refreshed when an unknown key id appears): signature, issuer, audience, expiry. A token
 * must carry `exp` (one without would be valid for ever, however it leaked). The subject claim is
 * normalised (normaliseSubject) like an API key's, so a person is one actor across credentials.
 */
export function createOidcVerifier(config: ApiConfig): OidcVerifier | undefined {
  if (!config.ECOC_OIDC_JWKS_URL) return undefined;
  if (!config.ECOC_OIDC_ISSUER || !config.ECOC_OIDC_AUDIENCE) {
    throw new OidcConfigurationError('ECOC_OIDC_JWKS_URL is set: ECOC_OIDC_ISSUER and ECOC_OIDC_AUDIENCE must be set too (tokens are checked against both)');
  }
  const issuer = config.ECOC_OIDC_ISSUER;
  const audience = config.ECOC_OIDC_AUDIENCE;
  const jwks = createRemoteJWKSet(new URL(config.ECOC_OIDC_JWKS_URL), { timeoutDuration: 5_000 });
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ALGORITHMS, clockTolerance: 30, requiredClaims: ['exp'] }));
    } catch (error) {
      return { ok: false, reason: rejection(error) };
    }
    const claimed = claim(payload, config.ECOC_OIDC_SUBJECT_CLAIM);
    const subject = typeof claimed === 'string' ? normaliseSubject(claimed) : '';
    if (!subject) return { ok: false, reason: `the token has no ${config.ECOC_OIDC_SUBJECT_CLAIM} claim` };
    return {
      ok: true,
      principal: {
        subject,
        credential: { kind: 'oidc', issuer },
        roles: validRoles(list(claim(payload, config.ECOC_OIDC_ROLES_CLAIM))),
        manufacturers: list(claim(payload, config.ECOC_OIDC_MANUFACTURERS_CLAIM)),
      },
    };
  };
}

function rejection(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed && error.reason === 'missing') return `the token has no ${error.claim} claim (required)`;
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by the identity provider';
  if (error instanceof errors.JOSEError) return `the token is invalid (${error.code})`;
  return 'the token could not be verified';
}

/** Reads `a.b.c` paths, for providers that nest roles (Keycloak's `realm_access.roles`). */
function claim(payload: JWTPayload, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), payload);
}

/** Claims hold an array of strings or one space-separated string. */
function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return [];
}
