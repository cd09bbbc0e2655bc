import type { Actor, Role } from '../schemas/certificate.ts';
import { may, permissions, type Permission } from './permissions.ts';

/** `*` in a credential's manufacturer list: every manufacturer (for operators of the whole hub). */
export const ALL_MANUFACTURERS = '*';

/**
 * One person, one actor id: a subject as every credential presents it (an API key's stored
 * subject, the OIDC subject claim), trimmed, in Unicode NFC and case-folded, so "Rita", " rita"
 * and "RITA" (or a decomposed "Zoe\u0308" and a composed "Zo\u00eb") are the same actor wherever
 * identity matters (four-eyes, review owner, audit). Upper then lower case approximates Unicode
 * case folding (ß and ss, final and medial sigma fold together), which JavaScript does not offer.
 */
export function normaliseSubject(subject: string): string {
  return subject.trim().normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** An authenticated caller: who acts, with which credential, roles and manufacturer scope. */
export interface Principal {
  /** The actor id in workflow updates and audit records (four-eyes compares these); normalised (normaliseSubject). */
  subject: string;
  credential: { kind: 'api_key'; keyId: string } | { kind: 'oidc'; issuer: string };
  roles: Role[];
  /** Manufacturer ids this caller may see; `['*']` for all. */
  manufacturers: string[];
}

/** Whether the caller's roles allow the permission (auth/permissions.ts); scope is checked separately. */
export function hasPermission(principal: Principal, permission: Permission): boolean {
  return may(principal.roles, permission);
}

export function seesAllManufacturers(principal: Principal): boolean {
  return principal.manufacturers.includes(ALL_MANUFACTURERS);
}

export function canSeeManufacturer(principal: Principal, manufacturerId: string): boolean {
  return seesAllManufacturers(principal) || principal.manufacturers.includes(manufacturerId);
}

/**
 * Whether a manufacturer list (another credential's scope) lies within the caller's: every one
 * of them is among the caller's manufacturers, and `*` only within `*`.
 */
export function coversManufacturers(principal: Principal, manufacturers: readonly string[]): boolean {
  if (seesAllManufacturers(principal)) return true;
  return manufacturers.every((id) => id !== ALL_MANUFACTURERS && principal.manufacturers.includes(id));
}

/**
 * Whether the caller holds everything the roles would give: every permission (auth/permissions.ts)
 * those roles allow, the caller's own roles allow too (admin holds them all).
 */
export function coversRoles(principal: Principal, roles: readonly Role[]): boolean {
  return (Object.keys(permissions) as Permission[]).every((permission) => !may(roles, permission) || may(principal.roles, permission));
}

/**
 * Hub-wide resources (release schedules and runs, /metrics, chain verification) span every
 * manufacturer: the permission and the `*` scope are both needed, on every path that shows them.
 */
export function mayUseHubWide(principal: Principal, permission: Permission): boolean {
  return hasPermission(principal, permission) && seesAllManufacturers(principal);
}

/**
 * The one answer to data for a VIN and stage registered to a manufacturer outside the caller's
 * reach: it must not confirm that the VIN exists elsewhere, nor whose it is.
 */
export function vinNotAcceptedMessage(vin: string, stage: number): string {
  return `VIN ${vin} stage ${stage} cannot be accepted for this manufacturer; if the vehicle is yours, ask the hub operator`;
}

/**
 * The rate-limit bucket of an authenticated caller: one per API key, one per person (issuer and
 * subject) for OIDC tokens, so one user's requests never throttle another's.
 */
export function rateLimitKey(principal: Principal): string {
  return principal.credential.kind === 'api_key' ? `api_key:${principal.credential.keyId}` : `oidc:${principal.credential.issuer}#${principal.subject}`;
}

/** A short label of the credential for audit details and logs. */
export function credentialLabel(principal: Principal): string {
  return principal.credential.kind === 'api_key' ? `api_key:${principal.credential.keyId}` : `oidc:${principal.credential.issuer}`;
}

export function actorOf(principal: Principal, requestId: string): Actor {
  return { id: principal.subject, roles: principal.roles, requestId };
}
