import type { Role } from '../schemas/certificate.ts';

/**
 * Who may do what: the one table that API routes, workflow Update validators and services
 * import. Deterministic and free of Node modules, because workflow code imports it.
 * Manufacturer scope is checked separately (auth/principal.ts): a role says what, scope says where.
 */
export const permissions = {
  /** Read certificates, their messages, history and audit trail (within the caller's manufacturers). */
  'certificates.view': ['integrator', 'homologation', 'reviewer', 'release-manager', 'ops', 'admin'],
  'vehicles.submit': ['integrator', 'homologation', 'admin'],
  'certificates.approve': ['reviewer', 'admin'],
  'certificates.reject': ['reviewer', 'admin'],
  'certificates.correct': ['homologation', 'admin'],
  'certificates.reassign': ['homologation', 'reviewer', 'admin'],
  'certificates.release': ['release-manager', 'admin'],
  'certificates.retry': ['ops', 'admin'],
  'certificates.withdraw': ['homologation', 'admin'],
  'vecto.import': ['integrator', 'homologation', 'admin'],
  'vecto.confirm': ['homologation', 'admin'],
  'releases.view': ['release-manager', 'ops', 'admin'],
  'releases.manage': ['release-manager', 'admin'],
  /** Read type-approval master data, its revisions, impact and readiness. */
  'typeApprovals.view': ['integrator', 'homologation', 'reviewer', 'release-manager', 'ops', 'admin'],
  'typeApprovals.draft': ['homologation', 'admin'],
  /** Four-eyes: only someone who did not draft the revision (ivi/type-approvals/repository.ts). */
  'typeApprovals.publish': ['homologation', 'admin'],
  /** Bulk corrections of delivered certificates a published revision changed. */
  'typeApprovals.correct': ['homologation', 'release-manager', 'admin'],
  'keys.manage': ['admin'],
  /** Loading the demo data creates keys for every role: the admin's decision only. */
  'demo.load': ['admin'],
  'audit.view': ['ops', 'admin'],
  'metrics.view': ['ops', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissions;

export function rolesFor(permission: Permission): readonly Role[] {
  return permissions[permission];
}

export function may(roles: readonly Role[] | undefined, permission: Permission): boolean {
  const allowed: readonly Role[] = permissions[permission];
  return roles?.some((role) => allowed.includes(role)) ?? false;
}

/** The one wording of a role refusal, wherever it is made. */
export function forbiddenMessage(action: string, who: string, roles: readonly Role[] | undefined, permission: Permission): string {
  return `${action}: ${who} has role(s) ${roles?.join(', ') || 'none'}; one of ${rolesFor(permission).join(', ')} is required`;
}

/**
 * Why a request was refused. Workflow validators throw an ApplicationFailure whose type is the
 * kind; services throw RefusedError; the API maps the kind to its HTTP status, never the text.
 */
export const refusalKinds = ['forbidden', 'four_eyes', 'not_allowed_in_state', 'stale_version', 'invalid', 'not_found'] as const;
export type RefusalKind = (typeof refusalKinds)[number];

export function isRefusalKind(value: unknown): value is RefusalKind {
  return typeof value === 'string' && (refusalKinds as readonly string[]).includes(value);
}

/** A service's refusal (outside workflows), typed like the validators'. */
export class RefusedError extends Error {
  override name = 'RefusedError';
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
  }
}

/** Throws a forbidden refusal unless the roles allow the permission (for services). */
export function requirePermission(actor: { id: string; roles: readonly Role[] }, permission: Permission, action: string): void {
  if (!may(actor.roles, permission)) throw new RefusedError('forbidden', forbiddenMessage(action, actor.id, actor.roles, permission));
}
