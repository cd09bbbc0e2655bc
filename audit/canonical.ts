import { canonicalJson, sha256Hex } from '../platform/hash.ts';

/** A chain starts from this "previous hash" (so does the checkpoint chain). */
export const GENESIS_HASH = '0'.repeat(64);

/** Records without certificate (API keys, releases, exports) chain here. */
export const HUB_CHAIN = 'hub';
/** Records written before per-chain chaining: one closed segment, verified as before. */
export const LEGACY_CHAIN = 'legacy';

/** The chain a record belongs to: one per certificate, one hub chain for the rest. */
export function chainOf(certificateId: string | null): string {
  return certificateId === null ? HUB_CHAIN : `certificate:${certificateId}`;
}

/** What a chained audit record consists of; its hash covers exactly these fields. */
export interface RecordFields {
  chain: string;
  seq: number;
  prevHash: string;
  occurredAt: Date;
  recordedAt: Date;
  actor: string;
  action: string;
  certificateId: string | null;
  entryKey: string | null;
  detail: unknown;
}

/**
 * Version 2 of the canonical form: JSON with sorted keys, times in ISO 8601 with milliseconds
 * (the columns' precision). Chain and position are part of it, so a record cannot be moved to
 * another chain or place; changing the form would invalidate every stored hash, hence the tag.
 */
export function recordHash(fields: RecordFields): string {
  return sha256Hex(
    canonicalJson({
      v: 2,
      chain: fields.chain,
      seq: fields.seq,
      prevHash: fields.prevHash,
      occurredAt: fields.occurredAt.toISOString(),
      recordedAt: fields.recordedAt.toISOString(),
      actor: fields.actor,
      action: fields.action,
      certificateId: fields.certificateId,
      entryKey: fields.entryKey,
      detail: fields.detail,
    }),
  );
}

/** The fields of a version 1 record (the legacy segment: one database-wide chain in id order). */
export interface LegacyFields {
  prevHash: string;
  occurredAt: Date;
  actor: string;
  action: string;
  certificateId: string | null;
  entryKey: string | null;
  detail: unknown;
}

/** Version 1 of the canonical form, used by records of the legacy segment. */
export function legacyRecordHash(fields: LegacyFields): string {
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
