import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { GENESIS_HASH, recordHash } from '../../audit/canonical.ts';
import { recordAudit } from '../../audit/chain.ts';
import { applyChanges, checkpointPayload, leavesOf, type LeafMap } from '../../audit/checkpoint.ts';
import { auditKeyring } from '../../audit/mac.ts';
import { merkleRoot } from '../../audit/merkle.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../../connectors/hsm/software.ts';
import { sha256Hex } from '../../platform/hash.ts';
import { startAuditStack, type AuditStack } from '../support/audit.ts';

/**
 * The attacks of a database superuser on the audit trail (issue "Controls that hold", finding 5).
 * Each one is done with full database rights, triggers skipped; verification must name the place.
 */

let stack: AuditStack;
beforeEach(async () => {
  stack = await startAuditStack();
});
afterEach(async () => {
  await stack?.stop();
});

async function write(certificateId: string | null, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await recordAudit(stack.db, [{ entryKey: null, occurredAt: new Date(), actor: 'rita', action: `step:${index + 1}`, certificateId, detail: { index } }]);
  }
}

/** A timestamp(3) literal in UTC, as the app's columns hold them. */
function utc(date: Date): string {
  return date.toISOString().replace('Z', '');
}

async function chain(name: string) {
  return stack.db.auditRecord.findMany({ where: { chain: name }, orderBy: { seq: 'asc' } });
}

describe('a database superuser', () => {
  test('rewriting a record with session_replication_role=replica and rehashing every later record is detected at the rewritten record (its MAC)', async () => {
    await write('ecoc-A', 4);
    await write('ecoc-B', 2);
    const records = await chain('certificate:ecoc-A');
    // Rewrite seq 2 and recompute seq 2..4 with correct hashes and links, as someone with full database rights can.
    let prevHash = records[0]!.hash!;
    for (const record of records.slice(1)) {
      const actor = record.seq === 2 ? 'mallory' : record.actor;
      const hash = recordHash({ ...record, actor, prevHash, recordedAt: record.recordedAt! });
      await stack.tamper('UPDATE audit_record SET actor = $2, prev_hash = $3, hash = $4 WHERE id = $1', [record.id, actor, prevHash, hash]);
      prevHash = hash;
    }
    const result = await stack.verify();
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ kind: 'mac_invalid', chain: 'certificate:ecoc-A', seq: 2, id: records[1]!.id.toString() });
    expect(result.firstInvalid!.message).toContain('rewritten and rehashed directly in the database');
    // One problem for the chain; the untouched certificate verifies.
    expect(result.problems).toHaveLength(1);
    expect(result.records.checked).toBe(1 + 2);
  });

  test('deleting the last records of a chain, or a whole chain, that a checkpoint covers is detected, naming chain and first missing seq', async () => {
    await write('ecoc-A', 3);
    await write('ecoc-B', 1);
    await stack.checkpoint();
    const records = await chain('certificate:ecoc-A');
    await stack.tamper('DELETE FROM audit_record WHERE id = ANY($1)', [records.slice(1).map((record) => record.id)]);
    await stack.tamper(`DELETE FROM audit_record WHERE chain = 'certificate:ecoc-B'`);
    const result = await stack.verify();
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ kind: 'records_missing', chain: 'certificate:ecoc-A', seq: 2, expected: records[2]!.hash });
    expect(result.firstInvalid!.message).toMatch(/checkpoint 1 holds chain certificate:ecoc-A up to seq 3, but the chain ends at seq 1: records 2\.\.3 were deleted/);
    expect(result.problems[1]).toMatchObject({ kind: 'records_missing', chain: 'certificate:ecoc-B', seq: 1 });
  });

  test('deleting the last records together with the checkpoints that cover them is exposed by the witness outside the database', async () => {
    await write('ecoc-A', 2);
    await stack.checkpoint();
    await write('ecoc-A', 1);
    const second = await stack.checkpoint();
    await stack.tamper(`DELETE FROM audit_record WHERE chain = 'certificate:ecoc-A' AND seq = 3`);
    await stack.tamper('DELETE FROM audit_checkpoint WHERE number = 2');
    const result = await stack.verify();
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ kind: 'checkpoint_missing', checkpoint: 2, expected: second.digest });
    expect(result.firstInvalid!.message).toContain('the witness workflow holds checkpoint 2');
    expect(result.problems.map((problem) => problem.kind)).toEqual(['checkpoint_missing', 'checkpoint_missing']); // the workflow and the witness file
  });

  test('nulling hashes is a failure that names the record, not "legacy unchained"', async () => {
    await write('ecoc-A', 3);
    await write('ecoc-B', 2);
    const [, second] = await chain('certificate:ecoc-A');
    await stack.tamper('UPDATE audit_record SET hash = NULL, prev_hash = NULL, mac = NULL, mac_key = NULL WHERE id = $1', [second!.id]);
    await stack.tamper(`UPDATE audit_record SET hash = NULL, prev_hash = NULL WHERE chain = 'certificate:ecoc-B'`);
    const result = await stack.verify();
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ kind: 'unchained', chain: 'certificate:ecoc-A', seq: 2, id: second!.id.toString() });
    expect(result.problems[1]).toMatchObject({ kind: 'unchained', chain: 'certificate:ecoc-B', seq: 1 });
    expect(result.legacy).toBeNull();
  });

  test('a forged record appended with a correct hash and link is detected: without the app’s key there is no valid MAC', async () => {
    await write('ecoc-A', 2);
    await write(null, 1);
    const [head] = (await chain('certificate:ecoc-A')).slice(-1);
    const forge = async (chainName: string, certificateId: string | null, seq: number, prevHash: string, mac: string | null, macKey: string | null) => {
      const fields = { chain: chainName, seq, prevHash, occurredAt: new Date(), recordedAt: new Date(Math.floor(Date.now() / 1000) * 1000), actor: 'rita', action: 'status:approved', certificateId, entryKey: null, detail: { forged: false } };
      const hash = recordHash(fields);
      await stack.tamper(
        'INSERT INTO audit_record (chain, seq, occurred_at, recorded_at, actor, action, certificate_id, detail, prev_hash, hash, mac, mac_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        [fields.chain, seq, utc(fields.occurredAt), utc(fields.recordedAt), fields.actor, fields.action, certificateId, fields.detail, prevHash, hash, mac, macKey],
      );
    };
    // A guessed MAC under the real key's id, on an existing chain; no MAC in a chain of its own; a made-up key on the hub.
    await forge('certificate:ecoc-A', 'ecoc-A', head!.seq + 1, head!.hash!, randomBytes(32).toString('hex'), auditKeyring().current.id);
    await forge('certificate:ecoc-Z', 'ecoc-Z', 1, GENESIS_HASH, null, null);
    const hubHead = (await chain('hub')).at(-1)!;
    await forge('hub', null, hubHead.seq + 1, hubHead.hash!, randomBytes(32).toString('hex'), 'feedfacefeedface');
    const result = await stack.verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({ kind: 'mac_invalid', chain: 'certificate:ecoc-A', seq: 3 }),
      expect.objectContaining({ kind: 'mac_invalid', chain: 'certificate:ecoc-Z', seq: 1 }),
      expect.objectContaining({ kind: 'mac_key_unknown', chain: 'hub', seq: 2, actual: 'feedfacefeedface' }),
    ]);
    expect(result.firstInvalid!.message).toContain('has a wrong MAC');
  });

  test('a checkpoint forged with another key is refused as untrusted, and one altered is refused as altered', async () => {
    await write('ecoc-A', 1);
    const first = await stack.checkpoint();
    await write('ecoc-A', 1);
    const otherDir = mkdtempSync(join(tmpdir(), 'ecoc-mallory-'));
    const mallory = await openSoftwareSigner(await ensureSoftwareKey(otherDir));
    try {
      const row = (await stack.db.auditCheckpoint.findUnique({ where: { number: 1 } }))!;
      const leaves: LeafMap = new Map();
      applyChanges(leaves, row.changes);
      const head = (await chain('certificate:ecoc-A')).at(-1)!;
      leaves.set(head.chain, { seq: head.seq, hash: head.hash! });
      const fields = { number: 2, createdAt: new Date(), prevDigest: first.digest, root: merkleRoot(leavesOf(leaves)), leafCount: leaves.size };
      const payload = checkpointPayload(fields);
      const signature = (await mallory.signRsaSha256(Buffer.from(payload))).toString('base64');
      await stack.tamper('INSERT INTO audit_checkpoint (number, created_at, prev_digest, root, leaf_count, changes, digest, signature, certificate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        2,
        utc(fields.createdAt),
        fields.prevDigest,
        fields.root,
        fields.leafCount,
        JSON.stringify([[head.chain, head.seq, head.hash]]),
        sha256Hex(payload),
        signature,
        mallory.certificatePem,
      ]);
      const forged = await stack.verify();
      expect(forged.firstInvalid).toMatchObject({ kind: 'checkpoint_untrusted', checkpoint: 2 });

      await stack.tamper('DELETE FROM audit_checkpoint WHERE number = 2');
      await stack.tamper(`UPDATE audit_checkpoint SET changes = '[]' WHERE number = 1`);
      const altered = await stack.verify();
      expect(altered.firstInvalid).toMatchObject({ kind: 'checkpoint_altered', checkpoint: 1 });
    } finally {
      await mallory.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  test('documented limit: the records written since the last checkpoint can be deleted without a trace (the checkpoint interval bounds the window)', async () => {
    await write('ecoc-A', 2);
    await stack.checkpoint();
    await write('ecoc-A', 1);
    expect((await stack.verify()).records.afterLastCheckpoint).toBe(1);
    await stack.tamper(`DELETE FROM audit_record WHERE chain = 'certificate:ecoc-A' AND seq = 3`);
    expect(await stack.verify()).toMatchObject({ ok: true, records: { afterLastCheckpoint: 0 } });
  });
});
