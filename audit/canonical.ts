import { canonicalJson, sha256Hex } from '../platform/hash.ts';

/** The chain starts from this "previous hash". */
export const GENESIS_HASH = '0'.repeat(64);

/** What a chained audit record consists of; its hash covers exactly these fields. */
export interface ChainedFields {
  prevHash: string;
  occurredAt: Date;
  actor: string;
  action: string;
  certificateId: string | null;
  entryKey: string | null;
  detail: unknown;
}

/**
 * Version 1 of the canonical form: JSON with sorted keys, the time in ISO 8601 with milliseconds
 * (the column's precision). Changing it would invalidate every stored hash, hence the version tag.
 */
export function recordHash(fields: ChainedFields): string {
  return sha256Hex(
    canonicalJson({
      v: 1,
      prevHash: fields.prevHash,
      occurredAt: fields.occurredAt.toISOString(),
      actor: fields.actor,
      action: fields.action,
      certificateId: fields.certificateId,
      entryKey: fields.entryKey,
      detail: fields.detail,
    }),
  );
}

/** JSON as PostgreSQL's jsonb gives it back (no undefined, dates as strings), so hashes survive the round trip. */
export function jsonNormalized<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
