import type { Database } from '../platform/database/prisma.ts';
import type { AuditVerification } from '../schemas/api/audit.ts';
import { GENESIS_HASH, recordHash } from './canonical.ts';

const PAGE = 2_000;

/**
 * Recomputes the whole chain in id order and stops at the first record that does not fit:
 * - content_altered: the row's fields no longer give its stored hash;
 * - link_broken: the next row chained to another hash than this row's (this row was changed and
 *   its hash recomputed, or a row after it was removed or inserted);
 * - unchained: a row without hash after the chain started.
 */
export async function verifyAuditChain(db: Database, options: { pageSize?: number } = {}): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? PAGE;
  let checked = 0;
  let legacyUnchained = 0;
  let anchor: string | null = null;
  let previous: { id: bigint; hash: string } | undefined;
  let cursor: bigint | undefined;
  for (;;) {
    const rows = await db.auditRecord.findMany({
      ...(cursor === undefined ? {} : { where: { id: { gt: cursor } } }),
      orderBy: { id: 'asc' },
      take: pageSize,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      cursor = row.id;
      const id = row.id.toString();
      if (row.hash === null || row.prevHash === null) {
        if (previous) return invalid({ id, kind: 'unchained', message: `record ${id} has no hash but follows chained record ${previous.id}` });
        legacyUnchained += 1;
        continue;
      }
      if (!previous && row.prevHash !== GENESIS_HASH) anchor = row.prevHash;
      if (previous && row.prevHash !== previous.hash) {
        return invalid({
          id: previous.id.toString(),
          kind: 'link_broken',
          message: `record ${id} chained to a hash that record ${previous.id} (the one before it) does not have: record ${previous.id} was changed and its hash recomputed, or a record between them was removed or inserted`,
          expected: row.prevHash,
          actual: previous.hash,
        });
      }
      const recomputed = recordHash({
        prevHash: row.prevHash,
        occurredAt: row.occurredAt,
        actor: row.actor,
        action: row.action,
        certificateId: row.certificateId,
        entryKey: row.entryKey,
        detail: row.detail,
      });
      if (recomputed !== row.hash) {
        return invalid({
          id,
          kind: 'content_altered',
          message: `record ${id} (${row.action} by ${row.actor}) was altered: its fields no longer match its hash`,
          expected: row.hash,
          actual: recomputed,
        });
      }
      checked += 1;
      previous = { id: row.id, hash: row.hash };
    }
  }
  return { ok: true, checked, legacyUnchained, anchor, head: previous?.hash ?? null };

  function invalid(firstInvalid: NonNullable<AuditVerification['firstInvalid']>): AuditVerification {
    return { ok: false, checked, legacyUnchained, anchor, head: previous?.hash ?? null, firstInvalid };
  }
}
