import type { Role } from '../schemas/certificate.ts';
import type { Actor } from '../schemas/certificate.ts';

/** `*` in a credential's manufacturer list: every manufacturer (for operators of the whole hub). */
export const ALL_MANUFACTURERS = '*';

/** An authenticated caller: who acts, with which credential, roles and manufacturer scope. */
export interface Principal {
  /** The actor id in workflow updates and audit records (four-eyes compares these). */
  subject: string;
  credential: { kind: 'api_key'; keyId: string } | { kind: 'oidc'; issuer: string };
  roles: Role[];
  /** Manufacturer ids this caller may see; `['*']` for all. */
  manufacturers: string[];
}

export function hasRole(principal: Principal, allowed: readonly Role[]): boolean {
  return principal.roles.some((role) => allowed.includes(role));
}

export function seesAllManufacturers(principal: Principal): boolean {
  return principal.manufacturers.includes(ALL_MANUFACTURERS);
}

export function canSeeManufacturer(principal: Principal, manufacturerId: string): boolean {
  return seesAllManufacturers(principal) || principal.manufacturers.includes(manufacturerId);
}

/** A short label of the credential for audit details and logs. */
export function credentialLabel(principal: Principal): string {
  return principal.credential.kind === 'api_key' ? `api_key:${principal.credential.keyId}` : `oidc:${principal.credential.issuer}`;
}

export function actorOf(principal: Principal, requestId: string): Actor {
  return { id: principal.subject, roles: principal.roles, requestId };
}
