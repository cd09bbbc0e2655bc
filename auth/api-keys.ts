import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../platform/database/prisma.ts';
import { roles as knownRoles, type Role } from '../schemas/certificate.ts';
import { RefusedError } from './permissions.ts';
import { coversManufacturers, coversRoles, normaliseSubject, type Principal } from './principal.ts';

/**
 * API keys look like `ecoc_<16 hex key id>_<43 chars base64url secret>`: the prefix makes them
 * recognisable to secret scanners, the key id finds the row, and only the SHA-256 of the 256-bit
 * secret is stored (a slow hash adds nothing for a secret this random).
 */
const KEY_FORMAT = /^ecoc_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeySpec {
  subject: string;
  roles: Role[];
  manufacturers: string[];
  description?: string | undefined;
  expiresAt?: Date | undefined;
  createdBy: string;
}

export interface ApiKeyInfo {
  keyId: string;
  subject: string;
  description: string | null;
  roles: Role[];
  manufacturers: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastUsedAt: Date | null;
}

export type KeyRejection = 'malformed' | 'unknown' | 'revoked' | 'expired';

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('ecoc_');
}

function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * Key management by a caller (API route, OIDC or API key) never reaches beyond the caller: a
 * key is within the caller's scope when all its manufacturers are among the caller's (`*` only
 * for `*`). The server's operator (`ecoc keys`, no principal) is not restricted.
 */
export function keyWithinScope(caller: Principal, key: { manufacturers: readonly string[] }): boolean {
  return coversManufacturers(caller, key.manufacturers);
}

/** Refuses (forbidden) a key that would give more roles or manufacturers than the granting caller has. */
export function requireGrantable(grantor: Principal, spec: { roles: readonly Role[]; manufacturers: readonly string[] }): void {
  if (!coversManufacturers(grantor, spec.manufacturers)) {
    throw new RefusedError(
      'forbidden',
      `create an API key: ${grantor.subject} may grant only manufacturers within their own scope (${grantor.manufacturers.join(', ') || 'none'}); asked for ${spec.manufacturers.join(', ')}`,
    );
  }
  if (!coversRoles(grantor, spec.roles)) {
    throw new RefusedError('forbidden', `create an API key: ${grantor.subject} may grant only roles within their own (${grantor.roles.join(', ') || 'none'}); asked for ${spec.roles.join(', ')}`);
  }
}

/**
 * Creates a key; the returned `token` is the only time the secret exists outside the caller's
 * hands. The subject is stored normalised (the person's actor id, normaliseSubject). With a
 * `grantor`, the key may not exceed the grantor's roles and manufacturers (requireGrantable).
 */
export async function createApiKey(db: Database, spec: ApiKeySpec, grantor?: Principal): Promise<{ token: string; key: ApiKeyInfo }> {
  if (grantor) requireGrantable(grantor, spec);
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const row = await db.apiKey.create({
    data: {
      id: keyId,
      subject: normaliseSubject(spec.subject),
      description: spec.description ?? null,
      secretHash: secretHash(secret).toString('hex'),
      roles: spec.roles,
      manufacturers: spec.manufacturers,
      createdBy: spec.createdBy,
      expiresAt: spec.expiresAt ?? null,
    },
  });
  return { token: `ecoc_${keyId}_${secret}`, key: info(row) };
}

/** Every key, or with a `viewer` only the keys within the viewer's scope (keyWithinScope). */
export async function listApiKeys(db: Database, viewer?: Principal): Promise<ApiKeyInfo[]> {
  const keys = (await db.apiKey.findMany({ orderBy: { createdAt: 'asc' } })).map(info);
  return viewer ? keys.filter((key) => keyWithinScope(viewer, key)) : keys;
}

export async function countActiveAdminKeys(db: Database, now = new Date()): Promise<number> {
  return db.apiKey.count({ where: { roles: { has: 'admin' }, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } });
}

/**
 * Revokes a key (kept for the record); undefined when there is no such key, or when a `revoker`
 * is given and the key lies outside the revoker's scope (it looks exactly like a missing one).
 */
export async function revokeApiKey(db: Database, keyId: string, revokedBy: string, revoker?: Principal): Promise<ApiKeyInfo | undefined> {
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || (revoker && !keyWithinScope(revoker, row))) return undefined;
  if (row.revokedAt) return info(row);
  return info(await db.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date(), revokedBy } }));
}

export type KeyCheck = { ok: true; keyId: string; principal: Principal } | { ok: false; reason: KeyRejection };

export async function authenticateApiKey(db: Database, token: string, now = new Date()): Promise<KeyCheck> {
  const match = KEY_FORMAT.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, keyId, secret] = match as unknown as [string, string, string];
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || !timingSafeEqual(Buffer.from(row.secretHash, 'hex'), secretHash(secret))) return { ok: false, reason: 'unknown' };
  if (row.revokedAt) return { ok: false, reason: 'revoked' };
  if (row.expiresAt && row.expiresAt <= now) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    keyId,
    principal: { subject: normaliseSubject(row.subject), credential: { kind: 'api_key', keyId }, roles: validRoles(row.roles), manufacturers: row.manufacturers },
  };
}

/** Records use, at most once a minute per key, so authentication stays a single read. */
export function lastUsedRecorder(db: Database, intervalMs = 60_000): (keyId: string) => void {
  const recorded = new Map<string, number>();
  return (keyId) => {
    const now = Date.now();
    if ((recorded.get(keyId) ?? 0) > now - intervalMs) return;
    recorded.set(keyId, now);
    void db.apiKey.update({ where: { id: keyId }, data: { lastUsedAt: new Date(now) } }).catch(() => recorded.delete(keyId));
  };
}

export function validRoles(values: readonly string[]): Role[] {
  return values.filter((value): value is Role => (knownRoles as readonly string[]).includes(value));
}

function info(row: Awaited<ReturnType<Database['apiKey']['create']>>): ApiKeyInfo {
  return {
    keyId: row.id,
    subject: row.subject,
    description: row.description,
    roles: validRoles(row.roles),
    manufacturers: row.manufacturers,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    revokedBy: row.revokedBy,
    lastUsedAt: row.lastUsedAt,
  };
}
