import { RefusedError } from '../auth/permissions.ts';

/**
 * A release request that cannot be done as asked: a RefusedError (auth/permissions.ts) whose
 * `kind` says why — `not_found` (no such destination, schedule or release) or
 * `not_allowed_in_state` (the destination already has a schedule) — so the API answers it like
 * every other refusal and the CLI prints the message as it is. Role refusals are the plain
 * RefusedError of `requirePermission`.
 */
export class ReleaseRequestError extends RefusedError {
  override name = 'ReleaseRequestError';
}
