import { verify, X509Certificate } from 'node:crypto';
import type { AuditCheckpoint } from '../.generated/prisma/client.ts';
import { certificateFingerprint } from '../connectors/hsm/certificate.ts';
import type { KeySigner } from '../connectors/hsm/signer.ts';
import type { Database } from '../platform/database/prisma.ts';
import { canonicalJson, sha256Hex } from '../platform/hash.ts';
import type { WitnessedCheckpoint } from '../workflows/audit/types.ts';
import { GENESIS_HASH } from './canonical.ts';
import { compareChains, merkleRoot, type CheckpointLeaf } from './merkle.ts';

/**
 * How far before the previous checkpoint a new one looks for changed chains. A record's
 * `recorded_at` is its transaction's start (the database's clock) and audit transactions end
 * within Prisma's 30 s timeout, so every record committed after the previous checkpoint read the
 * heads has `recorded_at` later than that checkpoint's time minus this margin. Verification uses
 * the same margin: a record older than the last checkpoint by more than it must be covered.
 */
export const CHECKPOINT_OVERLAP_MS = 10 * 60_000;

export type CheckpointRow = AuditCheckpoint;

/** The chain heads a checkpoint commits to, by chain. */
export type LeafMap = Map<string, { seq: number; hash: string }>;

/** A checkpoint's position with its full leaf set (the fold of every checkpoint's changes). */
export interface CheckpointState {
  number: number;
  digest: string;
  createdAt: Date;
  leaves: LeafMap;
}

export class AuditCheckpointError extends Error {
  override name = 'AuditCheckpointMismatch';
}

/** What is signed, digested and witnessed: canonical JSON of the checkpoint's fixed fields. */
export function checkpointPayload(checkpoint: { number: number; createdAt: Date | string; prevDigest: string; root: string; leafCount: number }): string {
  return canonicalJson({
    v: 1,
    kind: 'ecoc-audit-checkpoint',
    number: checkpoint.number,
    createdAt: new Date(checkpoint.createdAt).toISOString(),
    prevDigest: checkpoint.prevDigest,
    root: checkpoint.root,
    leafCount: checkpoint.leafCount,
  });
}

export function leavesOf(map: LeafMap): CheckpointLeaf[] {
  return [...map.entries()].map(([chain, head]): CheckpointLeaf => [chain, head.seq, head.hash]).sort((a, b) => compareChains(a[0], b[0]));
}

/** Applies a checkpoint's `changes` column; throws on a malformed one. */
export function applyChanges(leaves: LeafMap, changes: unknown): void {
  if (!Array.isArray(changes)) throw new Error('changes is not a list');
  for (const leaf of changes as unknown[]) {
    if (!Array.isArray(leaf) || leaf.length !== 3 || typeof leaf[0] !== 'string' || typeof leaf[1] !== 'number' || typeof leaf[2] !== 'string') {
      throw new Error(`malformed leaf ${JSON.stringify(leaf)}`);
    }
    leaves.set(leaf[0], { seq: leaf[1], hash: leaf[2] });
  }
}

export function summaryOf(row: CheckpointRow): WitnessedCheckpoint {
  return {
    number: row.number,
    createdAt: row.createdAt.toISOString(),
    digest: row.digest,
    prevDigest: row.prevDigest,
    root: row.root,
    leafCount: row.leafCount,
    certificateFingerprint: fingerprintOfPem(row.certificate),
    signature: row.signature,
  };
}

export function fingerprintOfPem(pem: string): string {
  return certificateFingerprint(new X509Certificate(pem));
}

/** The seal key's signature over the payload, checked with the certificate stored beside it. */
export function signatureValid(row: Pick<CheckpointRow, 'certificate' | 'signature'>, payload: string): boolean {
  try {
    return verify('sha256', Buffer.from(payload), new X509Certificate(row.certificate).publicKey, Buffer.from(row.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Replays every checkpoint's changes; the last one's root must come out (else verify says where it does not). */
export async function loadCheckpointState(db: Database): Promise<CheckpointState | null> {
  const leaves: LeafMap = new Map();
  let last: CheckpointRow | undefined;
  for (let after = 0; ; ) {
    const rows = await db.auditCheckpoint.findMany({ where: { number: { gt: after } }, orderBy: { number: 'asc' }, take: 500 });
    if (rows.length === 0) break;
    for (const row of rows) applyChanges(leaves, row.changes);
    last = rows.at(-1)!;
    after = last.number;
  }
  if (!last) return null;
  if (merkleRoot(leavesOf(leaves)) !== last.root) {
    throw new AuditCheckpointError(`The database's checkpoints do not recompute to checkpoint ${last.number}'s root; run \`ecoc audit verify\` to see where.`);
  }
  return { number: last.number, digest: last.digest, createdAt: last.createdAt, leaves };
}

export interface TakeCheckpointOptions {
  /** The latest checkpoint the witness holds (null for a witness that has none yet). */
  witnessed: { number: number; digest: string } | null;
  /** The state after the previous checkpoint, kept between calls in one worker process. */
  cache?: { state?: CheckpointState | undefined };
}

export interface TakenCheckpoint {
  checkpoint: WitnessedCheckpoint | null;
  /** True when the database already held it: an earlier attempt made it but the witness never heard. */
  replayed: boolean;
}

/**
 * Commits to every chain's head: finds the chains changed since the previous checkpoint, folds
 * their heads into the previous leaf set, computes the Merkle root, signs the payload with the
 * seal key and stores the checkpoint, all in one REPEATABLE READ transaction (one snapshot, so the
 * heads and the time agree). Nothing changed: no checkpoint. The database's checkpoints must
 * continue the one the witness holds; otherwise it refuses (AuditCheckpointMismatch), since
 * building on them would paper over deleted checkpoints.
 */
export async function takeCheckpoint(db: Database, signer: KeySigner, options: TakeCheckpointOptions): Promise<TakenCheckpoint> {
  const last = await db.auditCheckpoint.findFirst({ orderBy: { number: 'desc' } });
  const { witnessed } = options;
  if (witnessed) {
    if (!last || last.number < witnessed.number) {
      throw new AuditCheckpointError(`The witness holds checkpoint ${witnessed.number}, but the database's checkpoints end at ${last?.number ?? 0}: checkpoints were deleted from the database.`);
    }
    const atWitness = last.number === witnessed.number ? last : await db.auditCheckpoint.findUnique({ where: { number: witnessed.number } });
    if (atWitness?.digest !== witnessed.digest) {
      throw new AuditCheckpointError(`Checkpoint ${witnessed.number} in the database is not the one the witness holds (digest ${atWitness?.digest ?? 'missing'} instead of ${witnessed.digest}).`);
    }
    if (last.number === witnessed.number + 1 && last.prevDigest === witnessed.digest) return { checkpoint: summaryOf(last), replayed: true };
    if (last.number > witnessed.number) {
      throw new AuditCheckpointError(`The database holds checkpoints ${witnessed.number + 1}..${last.number} that the witness never saw.`);
    }
  }
  const cache = options.cache ?? {};
  const cached = cache.state;
  const previous = !last ? null : cached && cached.number === last.number && cached.digest === last.digest ? cached : await loadCheckpointState(db);

  const created = await db.$transaction(
    async (tx) => {
      const [{ now }] = (await tx.$queryRaw<{ now: Date }[]>`SELECT date_trunc('milliseconds', now()) AS now`) as [{ now: Date }];
      const changedChains = previous
        ? await tx.$queryRaw<{ chain: string }[]>`SELECT DISTINCT chain FROM audit_record WHERE recorded_at > ${new Date(previous.createdAt.getTime() - CHECKPOINT_OVERLAP_MS)}`
        : await tx.$queryRaw<{ chain: string }[]>`SELECT DISTINCT chain FROM audit_record`;
      if (changedChains.length === 0) return null;
      const heads = await tx.$queryRaw<{ chain: string; seq: number; hash: string | null }[]>`
        SELECT c.chain, h.seq, h.hash FROM unnest(${changedChains.map((row) => row.chain)}::text[]) AS c(chain)
        CROSS JOIN LATERAL (SELECT seq, hash FROM audit_record WHERE chain = c.chain ORDER BY seq DESC LIMIT 1) h`;
      const leaves: LeafMap = new Map(previous?.leaves ?? []);
      const changes: CheckpointLeaf[] = [];
      for (const head of heads) {
        const hash = head.hash ?? GENESIS_HASH; // a legacy segment that ends in records from before chaining
        const known = leaves.get(head.chain);
        if (known?.seq === head.seq && known.hash === hash) continue;
        leaves.set(head.chain, { seq: head.seq, hash });
        changes.push([head.chain, head.seq, hash]);
      }
      if (changes.length === 0) return null;
      changes.sort((a, b) => compareChains(a[0], b[0]));
      const fields = { number: (previous?.number ?? 0) + 1, createdAt: now, prevDigest: previous?.digest ?? GENESIS_HASH, root: merkleRoot(leavesOf(leaves)), leafCount: leaves.size };
      const payload = checkpointPayload(fields);
      const signature = (await signer.signRsaSha256(Buffer.from(payload))).toString('base64');
      const row = await tx.auditCheckpoint.create({
        data: { ...fields, changes, digest: sha256Hex(payload), signature, certificate: signer.certificatePem },
      });
      return { row, state: { number: row.number, digest: row.digest, createdAt: row.createdAt, leaves } satisfies CheckpointState };
    },
    { isolationLevel: 'RepeatableRead' },
  );
  if (!created) {
    cache.state = previous ?? undefined;
    return { checkpoint: null, replayed: false };
  }
  cache.state = created.state;
  return { checkpoint: summaryOf(created.row), replayed: false };
}
