import type { Database } from '../platform/database/prisma.ts';
import { sha256Hex } from '../platform/hash.ts';
import type { AuditProblem, AuditVerification } from '../schemas/api/audit.ts';
import type { WitnessedCheckpoint } from '../workflows/audit/types.ts';
import { chainOf, GENESIS_HASH, LEGACY_CHAIN, legacyRecordHash, recordHash } from './canonical.ts';
import {
  applyChanges,
  CHECKPOINT_OVERLAP_MS,
  checkpointPayload,
  fingerprintOfPem,
  leavesOf,
  signatureValid,
  type CheckpointRow,
  type LeafMap,
} from './checkpoint.ts';
import { auditKeyring, macMatches, type AuditKeyring } from './mac.ts';
import { merkleRoot } from './merkle.ts';
import type { WitnessFileView, WitnessWorkflowView } from './witness.ts';

const PAGE = 2_000;
const MAX_PROBLEMS = 100;
/** A checkpoint younger than this may not have reached the witness yet (its activity is finishing). */
export const WITNESS_GRACE_MS = 10 * 60_000;

export interface AuditVerifyOptions {
  pageSize?: number;
  /** The keys records are MACed with (default: this process's, audit/mac.ts). */
  keys?: AuditKeyring;
  /** Seal certificates (PEM) this installation signs with; checkpoints must be signed by one of them or by one the witness saw. */
  trustedCertificates?: string[];
  /** The witness workflow as read from Temporal; null when it does not exist; `{ error }` when it could not be read; absent when not consulted. */
  witnessWorkflow?: WitnessWorkflowView | null | { error: string };
  /** The witness file; null when there is none; absent when not consulted. */
  witnessFile?: WitnessFileView | null;
  /** Why a witness was not consulted, reported as is. */
  notes?: string[];
  now?: Date;
}

/** An audit_record row as raw SQL reads it (export and verification). */
export interface RecordRow {
  id: bigint;
  chain: string;
  seq: number;
  occurred_at: Date;
  recorded_at: Date | null;
  actor: string;
  action: string;
  certificate_id: string | null;
  entry_key: string | null;
  detail: unknown;
  prev_hash: string | null;
  hash: string | null;
  mac: string | null;
  mac_key: string | null;
}

/**
 * Verifies the audit trail against itself, its checkpoints and the witnesses outside the
 * database, and names every place that does not fit (at most one per chain; the first in
 * verification order is `firstInvalid`):
 *
 * 1. Checkpoints, in number order: no gaps, each chains to the previous digest, its payload gives
 *    its digest, the previous leaves with its changes give its root, the seal key's signature
 *    verifies with its certificate, and that certificate is trusted (configured here, or seen by
 *    the witness).
 * 2. Witnesses: every checkpoint the witness workflow (and the witness file) holds is in the
 *    database with the same digest; a database checkpoint the workflow never saw is a failure once
 *    it is older than a few minutes.
 * 3. Records, chain by chain in sequence order: positions 1, 2, 3… without gaps, no record without
 *    hash, each hash recomputes, each links to the previous record's hash, each MAC verifies under
 *    the app's key; against the last checkpoint: the record at each head it committed to has that
 *    hash, no chain ends before it, every record older than the checkpoint (with margin) is
 *    covered, and the legacy segment did not grow. The legacy segment is verified as before.
 */
export async function verifyAudit(db: Database, options: AuditVerifyOptions = {}): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? PAGE;
  const keys = options.keys ?? auditKeyring();
  const now = options.now ?? new Date();
  const problems: AuditProblem[] = [];
  const add = (problem: AuditProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };

  // ---- 1. checkpoints ----
  const workflow = options.witnessWorkflow && 'error' in options.witnessWorkflow ? undefined : options.witnessWorkflow;
  const trusted = new Set<string>([
    ...(options.trustedCertificates ?? []).map(fingerprintOfPem),
    ...(workflow?.certificates ?? []),
    ...(options.witnessFile?.checkpoints.map((checkpoint) => checkpoint.certificateFingerprint) ?? []),
  ]);
  const digests = new Map<number, { digest: string; createdAt: Date }>();
  let leaves: LeafMap = new Map();
  let good: CheckpointRow | undefined;
  let checkpointsChecked = 0;
  let checkpointsBroken = false;
  for (let after = 0; ; ) {
    const rows = await db.auditCheckpoint.findMany({ where: { number: { gt: after } }, orderBy: { number: 'asc' }, take: Math.min(pageSize, 500) });
    if (rows.length === 0) break;
    for (const row of rows) {
      after = row.number;
      digests.set(row.number, { digest: row.digest, createdAt: row.createdAt });
      if (checkpointsBroken) continue;
      const problem = checkCheckpoint(row);
      if (problem) {
        add({ checkpoint: row.number, ...problem });
        checkpointsBroken = true;
        continue;
      }
      checkpointsChecked += 1;
    }
  }

  function checkCheckpoint(row: CheckpointRow): Omit<AuditProblem, 'checkpoint'> | undefined {
    const expected = (good?.number ?? 0) + 1;
    if (row.number !== expected) {
      return { kind: 'checkpoint_missing', message: `checkpoint ${expected} is missing: the database's checkpoints jump from ${expected - 1} to ${row.number}` };
    }
    const prevDigest = good?.digest ?? GENESIS_HASH;
    if (row.prevDigest !== prevDigest) {
      return { kind: 'checkpoint_altered', message: `checkpoint ${row.number} does not chain to checkpoint ${expected - 1}`, expected: prevDigest, actual: row.prevDigest };
    }
    const payload = checkpointPayload(row);
    const digest = sha256Hex(payload);
    if (digest !== row.digest) {
      return { kind: 'checkpoint_altered', message: `checkpoint ${row.number} was altered: its fields no longer give its digest`, expected: row.digest, actual: digest };
    }
    const next: LeafMap = new Map(leaves);
    try {
      applyChanges(next, row.changes);
    } catch (error) {
      return { kind: 'checkpoint_altered', message: `checkpoint ${row.number}'s stored leaves are unreadable: ${(error as Error).message}` };
    }
    const root = merkleRoot(leavesOf(next));
    if (root !== row.root || next.size !== row.leafCount) {
      return { kind: 'checkpoint_altered', message: `checkpoint ${row.number}'s stored leaves no longer give its root (${next.size} leaves, ${row.leafCount} committed)`, expected: row.root, actual: root };
    }
    if (!signatureValid(row, payload)) {
      return { kind: 'checkpoint_signature_invalid', message: `checkpoint ${row.number}'s signature does not verify with the certificate stored beside it` };
    }
    let fingerprint: string;
    try {
      fingerprint = fingerprintOfPem(row.certificate);
    } catch {
      return { kind: 'checkpoint_signature_invalid', message: `checkpoint ${row.number}'s certificate is not a readable X.509 certificate` };
    }
    if (!trusted.has(fingerprint)) {
      return {
        kind: 'checkpoint_untrusted',
        message: `checkpoint ${row.number} is signed by a certificate (SHA-256 ${fingerprint}) that is neither this installation's seal certificate nor one the witness saw`,
        actual: fingerprint,
      };
    }
    leaves = next;
    good = row;
    return undefined;
  }

  // ---- 2. witnesses ----
  const pendingWitness: number[] = [];
  let workflowSummary: AuditVerification['witness']['workflow'] = null;
  if (options.witnessWorkflow && 'error' in options.witnessWorkflow) {
    add({ kind: 'witness_unavailable', message: `the witness workflow could not be read: ${options.witnessWorkflow.error}` });
  } else if (options.witnessWorkflow === null) {
    if (digests.size > 0) add({ kind: 'witness_unavailable', message: `the database holds ${digests.size} checkpoint(s) but there is no witness workflow: it was never started here, or it was removed` });
  } else if (workflow) {
    const held = [...(workflow.carried ? [workflow.carried] : []), ...workflow.checkpoints];
    compareWitness(held, 'the witness workflow');
    const last = held.reduce((max, checkpoint) => Math.max(max, checkpoint.number), 0);
    for (const [number, { createdAt }] of digests) {
      if (number <= last) continue;
      if (now.getTime() - createdAt.getTime() > WITNESS_GRACE_MS) {
        add({ kind: 'checkpoint_unwitnessed', checkpoint: number, message: `checkpoint ${number} (made ${createdAt.toISOString()}) never reached the witness workflow, which ends at checkpoint ${last || 'none'}` });
      } else pendingWitness.push(number);
    }
    workflowSummary = { workflowId: workflow.workflowId, checked: held.length, first: workflow.first, last: last || null };
  }
  let fileSummary: AuditVerification['witness']['file'] = null;
  if (options.witnessFile) {
    const file = options.witnessFile;
    compareWitness(file.checkpoints, `the witness file ${file.path}`);
    const last = file.checkpoints.reduce((max, checkpoint) => Math.max(max, checkpoint.number), 0);
    fileSummary = { path: file.path, checked: file.checkpoints.length, last: last || null };
  }

  function compareWitness(held: WitnessedCheckpoint[], witness: string): void {
    const seen = new Set<number>();
    for (const checkpoint of held) {
      if (seen.has(checkpoint.number)) continue;
      seen.add(checkpoint.number);
      const stored = digests.get(checkpoint.number);
      if (!stored) {
        add({
          kind: 'checkpoint_missing',
          checkpoint: checkpoint.number,
          message: `${witness} holds checkpoint ${checkpoint.number} (made ${checkpoint.createdAt}) but the database does not: it was deleted`,
          expected: checkpoint.digest,
        });
      } else if (stored.digest !== checkpoint.digest) {
        add({ kind: 'witness_mismatch', checkpoint: checkpoint.number, message: `checkpoint ${checkpoint.number} in the database is not the one ${witness} holds`, expected: checkpoint.digest, actual: stored.digest });
      }
    }
  }

  // ---- 3. records, chain by chain ----
  const covered = leaves;
  const coveredBefore = good ? good.createdAt.getTime() - CHECKPOINT_OVERLAP_MS : undefined;
  const visited = new Set<string>();
  let checked = 0;
  let chains = 0;
  let afterLastCheckpoint = 0;
  let legacy: AuditVerification['legacy'] = null;
  let current: { chain: string; lastSeq: number; prevHash: string | null; failed: boolean; lastId: bigint | null } | undefined;

  const finishChain = () => {
    if (!current) return;
    const leaf = covered.get(current.chain);
    if (!current.failed && leaf && current.lastSeq < leaf.seq) {
      add({
        kind: 'records_missing',
        chain: current.chain,
        seq: current.lastSeq + 1,
        message: `checkpoint ${good!.number} holds chain ${current.chain} up to seq ${leaf.seq}, but the chain ends at seq ${current.lastSeq}: records ${current.lastSeq + 1}..${leaf.seq} were deleted`,
        expected: leaf.hash,
      });
    }
  };
  const fail = (problem: AuditProblem) => {
    add(problem);
    current!.failed = true;
  };

  for (let cursor: { chain: string; seq: number } | undefined; ; ) {
    const rows = cursor
      ? await db.$queryRaw<RecordRow[]>`
          SELECT id, chain, seq, occurred_at, recorded_at, actor, action, certificate_id, entry_key, detail, prev_hash, hash, mac, mac_key
          FROM audit_record WHERE (chain, seq) > (${cursor.chain}, ${cursor.seq}) ORDER BY chain, seq LIMIT ${pageSize}`
      : await db.$queryRaw<RecordRow[]>`
          SELECT id, chain, seq, occurred_at, recorded_at, actor, action, certificate_id, entry_key, detail, prev_hash, hash, mac, mac_key
          FROM audit_record ORDER BY chain, seq LIMIT ${pageSize}`;
    if (rows.length === 0) break;
    for (const row of rows) {
      if (current?.chain !== row.chain) {
        finishChain();
        current = { chain: row.chain, lastSeq: 0, prevHash: null, failed: false, lastId: null };
        visited.add(row.chain);
        chains += 1;
      }
      const leaf = covered.get(row.chain);
      if (!leaf || row.seq > leaf.seq) afterLastCheckpoint += 1;
      if (current.failed) continue;
      if (row.chain === LEGACY_CHAIN) checkLegacy(row, leaf);
      else checkRecord(row, leaf);
      current.lastSeq = row.seq;
      current.lastId = row.id;
    }
    const last = rows.at(-1)!;
    cursor = { chain: last.chain, seq: last.seq };
  }
  finishChain();
  for (const [chain, leaf] of covered) {
    if (visited.has(chain)) continue;
    add({ kind: 'records_missing', chain, seq: 1, message: `checkpoint ${good!.number} holds chain ${chain} up to seq ${leaf.seq}, but the chain has no records: all ${leaf.seq} were deleted`, expected: leaf.hash });
  }

  function place(row: RecordRow): { chain: string; seq: number; id: string } {
    return { chain: row.chain, seq: row.seq, id: row.id.toString() };
  }

  function checkRecord(row: RecordRow, leaf: { seq: number; hash: string } | undefined): void {
    const state = current!;
    const at = `record ${row.id} (${row.chain} seq ${row.seq}, ${row.action} by ${row.actor})`;
    if (row.seq !== state.lastSeq + 1) {
      return fail({
        kind: 'records_missing',
        ...place(row),
        seq: state.lastSeq + 1,
        message: `${row.chain} seq ${state.lastSeq + 1}${row.seq > state.lastSeq + 2 ? `..${row.seq - 1}` : ''} missing: the chain goes from seq ${state.lastSeq} to seq ${row.seq} (record ${row.id})`,
      });
    }
    if (row.hash === null || row.prev_hash === null || row.recorded_at === null) {
      return fail({ kind: 'unchained', ...place(row), message: `${at} has no hash: every record of a chain must be chained` });
    }
    const recomputed = recordHash({
      chain: row.chain,
      seq: row.seq,
      prevHash: row.prev_hash,
      occurredAt: row.occurred_at,
      recordedAt: row.recorded_at,
      actor: row.actor,
      action: row.action,
      certificateId: row.certificate_id,
      entryKey: row.entry_key,
      detail: row.detail,
    });
    if (recomputed !== row.hash) {
      return fail({ kind: 'content_altered', ...place(row), message: `${at} was altered: its fields no longer give its hash`, expected: row.hash, actual: recomputed });
    }
    if (row.chain !== chainOf(row.certificate_id)) {
      return fail({ kind: 'content_altered', ...place(row), message: `${at} is in chain ${row.chain} but belongs to ${chainOf(row.certificate_id)}` });
    }
    const prevHash = state.prevHash ?? GENESIS_HASH;
    if (row.prev_hash !== prevHash) {
      return fail({
        kind: 'link_broken',
        ...place(row),
        message: `${at} chains to a hash that seq ${row.seq - 1} of its chain does not have: a record before it was rewritten, removed or inserted`,
        expected: prevHash,
        actual: row.prev_hash,
      });
    }
    const key = row.mac_key === null ? undefined : keys.byId.get(row.mac_key);
    if (row.mac_key !== null && row.mac !== null && !key) {
      return fail({
        kind: 'mac_key_unknown',
        ...place(row),
        message: `${at} carries a MAC under audit key ${row.mac_key}, which this verifier does not hold (its keys: ${[...keys.byId.keys()].join(', ')} from ${keys.source}); give it the key the writers use, or the record was forged`,
        actual: row.mac_key,
      });
    }
    if (!key || row.mac === null || !macMatches(key, row.hash, row.mac)) {
      return fail({
        kind: 'mac_invalid',
        ...place(row),
        message: `${at} has ${row.mac === null ? 'no' : 'a wrong'} MAC: it was not written by the app (forged, or rewritten and rehashed directly in the database)`,
      });
    }
    if (leaf && row.seq === leaf.seq && row.hash !== leaf.hash) {
      return fail({ kind: 'checkpoint_mismatch', ...place(row), message: `${at} is not the record checkpoint ${good!.number} committed to at this position`, expected: leaf.hash, actual: row.hash });
    }
    if (coveredBefore !== undefined && (!leaf || row.seq > leaf.seq) && row.recorded_at.getTime() < coveredBefore) {
      return fail({
        kind: 'not_checkpointed',
        ...place(row),
        message: `${at}, written ${row.recorded_at.toISOString()}, is older than checkpoint ${good!.number} (${good!.createdAt.toISOString()}) but not covered by it: it was hidden when the checkpoint was taken`,
      });
    }
    state.prevHash = row.hash;
    checked += 1;
  }

  /** The legacy segment, as verified before per-chain chaining: leading unchained records allowed, then version 1 hashes in id order. */
  function checkLegacy(row: RecordRow, leaf: { seq: number; hash: string } | undefined): void {
    const state = current!;
    legacy ??= { records: 0, unchained: 0, anchor: null, head: null };
    legacy.records += 1;
    if (row.seq !== state.lastSeq + 1) {
      return fail({ kind: 'records_missing', ...place(row), seq: state.lastSeq + 1, message: `legacy seq ${state.lastSeq + 1} missing: the segment goes from seq ${state.lastSeq} to seq ${row.seq}` });
    }
    if (leaf && row.seq > leaf.seq) {
      return fail({ kind: 'legacy_extended', ...place(row), message: `record ${row.id} was added to the closed legacy segment after checkpoint ${good!.number} committed to it (up to seq ${leaf.seq})` });
    }
    if (row.hash === null || row.prev_hash === null) {
      if (state.prevHash !== null) return fail({ kind: 'unchained', ...place(row), message: `record ${row.id} has no hash but follows chained legacy record ${state.lastId}` });
      legacy.unchained += 1;
    } else {
      if (state.prevHash === null && row.prev_hash !== GENESIS_HASH) legacy.anchor = row.prev_hash;
      if (state.prevHash !== null && row.prev_hash !== state.prevHash) {
        return fail({
          kind: 'link_broken',
          ...place(row),
          message: `record ${row.id} chained to a hash that record ${state.lastId} (the one before it) does not have: record ${state.lastId} was changed and its hash recomputed, or a record between them was removed or inserted`,
          expected: row.prev_hash,
          actual: state.prevHash,
        });
      }
      const recomputed = legacyRecordHash({
        prevHash: row.prev_hash,
        occurredAt: row.occurred_at,
        actor: row.actor,
        action: row.action,
        certificateId: row.certificate_id,
        entryKey: row.entry_key,
        detail: row.detail,
      });
      if (recomputed !== row.hash) {
        return fail({ kind: 'content_altered', ...place(row), message: `record ${row.id} (${row.action} by ${row.actor}) was altered: its fields no longer match its hash`, expected: row.hash, actual: recomputed });
      }
      state.prevHash = row.hash;
      legacy.head = row.hash;
    }
    if (leaf && row.seq === leaf.seq && (row.hash ?? GENESIS_HASH) !== leaf.hash) {
      return fail({ kind: 'checkpoint_mismatch', ...place(row), message: `legacy record ${row.id} is not the one checkpoint ${good!.number} committed to`, expected: leaf.hash, actual: row.hash ?? GENESIS_HASH });
    }
    checked += 1;
  }

  const notes = [...(options.notes ?? [])];
  return {
    ok: problems.length === 0,
    records: { checked, chains, afterLastCheckpoint },
    legacy,
    checkpoints: {
      checked: checkpointsChecked,
      last: good ? { number: good.number, createdAt: good.createdAt.toISOString(), digest: good.digest, root: good.root, leafCount: good.leafCount } : null,
      pendingWitness,
    },
    witness: { workflow: workflowSummary, file: fileSummary, notes },
    ...(problems[0] ? { firstInvalid: problems[0] } : {}),
    problems,
  };
}
