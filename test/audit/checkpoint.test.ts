import { readFileSync } from 'node:fs';
import { verify, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recordAudit } from '../../audit/chain.ts';
import { AuditCheckpointError, checkpointPayload, fingerprintOfPem, takeCheckpoint } from '../../audit/checkpoint.ts';
import { merkleRoot, type CheckpointLeaf } from '../../audit/merkle.ts';
import { witnessFilePath } from '../../audit/witness.ts';
import { sha256Hex } from '../../platform/hash.ts';
import { waitFor } from '../../platform/wait.ts';
import type { CheckpointResult, WitnessedCheckpoint } from '../../workflows/audit/types.ts';
import { startAuditStack, type AuditStack } from '../support/audit.ts';
import { recordHistory } from '../support/histories.ts';

function record(certificateId: string | null, action: string) {
  return { entryKey: null, occurredAt: new Date(), actor: 'rita', action, certificateId, detail: { action } };
}

/** Every checkpoint the witness workflow's history holds, as its checkpoint activity answered. */
async function checkpointsInHistory(stack: AuditStack): Promise<WitnessedCheckpoint[]> {
  const history = await stack.witness.fetchHistory();
  const scheduled = new Set(
    (history.events ?? []).filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'takeAuditCheckpoint').map((event) => String(event.eventId)),
  );
  return (history.events ?? []).flatMap((event) => {
    const completed = event.activityTaskCompletedEventAttributes;
    if (!completed || !scheduled.has(String(completed.scheduledEventId))) return [];
    const result = defaultPayloadConverter.fromPayload<CheckpointResult>(completed.result!.payloads![0] as Payload);
    return result.checkpoint ? [result.checkpoint] : [];
  });
}

describe('checkpoints', () => {
  let stack: AuditStack;
  let webhook: Server;
  const posted: { type: string; checkpoint: WitnessedCheckpoint }[] = [];
  beforeAll(async () => {
    // The webhook export's receiver.
    webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        posted.push(JSON.parse(body) as (typeof posted)[number]);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const { port } = webhook.address() as { port: number };
    stack = await startAuditStack({ ECOC_AUDIT_WITNESS_WEBHOOK_URL: `http://127.0.0.1:${port}/audit-checkpoints` });
  });
  afterAll(async () => {
    await stack?.stop();
    webhook?.close();
  });

  test('a checkpoint commits to every chain head with a Merkle root, is signed with the seal key and is witnessed by the workflow and the file', async () => {
    await recordAudit(stack.db, [record('ecoc-A', 'status:approved'), record('ecoc-A', 'status:signed'), record('ecoc-B', 'status:approved'), record(null, 'api:key_created')]);
    const witnessed = await stack.checkpoint();
    expect(witnessed.number).toBe(1);

    const row = (await stack.db.auditCheckpoint.findUnique({ where: { number: 1 } }))!;
    const heads = await stack.db.auditRecord.findMany({ distinct: ['chain'], orderBy: [{ chain: 'asc' }, { seq: 'desc' }], select: { chain: true, seq: true, hash: true } });
    const leaves: CheckpointLeaf[] = heads.map((head) => [head.chain, head.seq, head.hash!]);
    expect(leaves.map(([chain, seq]) => [chain, seq])).toEqual([
      ['certificate:ecoc-A', 2],
      ['certificate:ecoc-B', 1],
      ['hub', 1],
    ]);
    expect(row.changes).toEqual(leaves);
    expect(row).toMatchObject({ prevDigest: '0'.repeat(64), root: merkleRoot(leaves), leafCount: 3 });
    const payload = checkpointPayload(row);
    expect(row.digest).toBe(sha256Hex(payload));
    // Signed by the seal key: the signer's certificate verifies it.
    expect(row.certificate).toBe(stack.signer.certificatePem);
    expect(verify('sha256', Buffer.from(payload), new X509Certificate(stack.signer.certificatePem).publicKey, Buffer.from(row.signature, 'base64'))).toBe(true);
    expect(witnessed).toMatchObject({ digest: row.digest, root: row.root, certificateFingerprint: fingerprintOfPem(stack.signer.certificatePem), signature: row.signature });

    // Witnessed outside the database: the workflow's history and the JSON-lines file hold it.
    expect(await checkpointsInHistory(stack)).toEqual([witnessed]);
    const lines = readFileSync(witnessFilePath(stack.config), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as WitnessedCheckpoint);
    expect(lines).toEqual([witnessed]);

    // And exported to the webhook.
    await waitFor(async () => posted.length > 0, { timeoutMs: 15_000, what: 'the checkpoint at the webhook' });
    expect(posted).toEqual([{ type: 'ecoc.audit.checkpoint', checkpoint: witnessed }]);

    const result = await stack.verify();
    expect(result).toMatchObject({
      ok: true,
      records: { checked: 4, chains: 3, afterLastCheckpoint: 0 },
      checkpoints: { checked: 1, last: { number: 1, digest: row.digest }, pendingWitness: [] },
      witness: { workflow: { workflowId: stack.witness.workflowId, checked: 1, first: 1, last: 1 }, file: { checked: 1, last: 1 } },
    });
  });

  test('the next checkpoint stores only the chains that changed, chains to the previous one, and none is taken when nothing changed', async () => {
    const first = (await stack.db.auditCheckpoint.findUnique({ where: { number: 1 } }))!;
    expect((await stack.checkpoint()).number).toBe(1);
    await recordAudit(stack.db, [record('ecoc-B', 'status:signed')]);
    const second = await stack.checkpoint();
    expect(second).toMatchObject({ number: 2, prevDigest: first.digest, leafCount: 3 });
    const row = (await stack.db.auditCheckpoint.findUnique({ where: { number: 2 } }))!;
    expect(row.changes).toEqual([['certificate:ecoc-B', 2, expect.any(String)]]);
    expect((await checkpointsInHistory(stack)).map((checkpoint) => checkpoint.number)).toEqual([1, 2]);
    expect(await stack.verify()).toMatchObject({ ok: true, checkpoints: { checked: 2 }, witness: { workflow: { checked: 2, last: 2 } } });
    await recordHistory('audit-witness', stack.witness);
  });

  test('after continue-as-new the witness carries its last checkpoint, which still exposes deleted checkpoints', async () => {
    const carried = (await checkpointsInHistory(stack)).at(-1)!;
    // A new run holding only what continue-as-new carries.
    await stack.witness.terminate('simulate continue-as-new');
    await stack.client.workflow.start('auditWitnessWorkflow', {
      workflowId: stack.witness.workflowId,
      taskQueue: stack.config.ECOC_TASK_QUEUE,
      args: [{ carried: { last: carried, first: 1, certificates: [carried.certificateFingerprint], witnessed: 2 }, intervalMs: 3_600_000 }],
    });
    await recordAudit(stack.db, [record('ecoc-C', 'status:approved')]);
    expect(await stack.checkpoint()).toMatchObject({ number: 3, prevDigest: carried.digest });
    expect(await stack.verify()).toMatchObject({ ok: true, witness: { workflow: { checked: 2, first: 1, last: 3 } } });

    await stack.tamper('DELETE FROM audit_checkpoint WHERE number >= 2');
    const result = await stack.verify();
    expect(result.ok).toBe(false);
    expect(result.firstInvalid).toMatchObject({ kind: 'checkpoint_missing', checkpoint: 2 });
    expect(result.firstInvalid!.message).toContain('the witness workflow holds checkpoint 2');
  });
});

describe('the checkpoint step', () => {
  test('continues only the checkpoint the witness holds: it hands back one made but never witnessed, and refuses to build on a database that lost witnessed ones', async () => {
    const stack = await startAuditStack();
    try {
      // Driven directly, as the witness's activity drives it.
      await recordAudit(stack.db, [record('ecoc-R', 'status:approved')]);
      const first = (await takeCheckpoint(stack.db, stack.signer, { witnessed: null })).checkpoint!;
      await recordAudit(stack.db, [record('ecoc-R', 'status:signed')]);
      const second = (await takeCheckpoint(stack.db, stack.signer, { witnessed: { number: 1, digest: first.digest } })).checkpoint!;
      // The activity's answer for checkpoint 2 was lost; its retry gets the same checkpoint, not a third one.
      expect(await takeCheckpoint(stack.db, stack.signer, { witnessed: { number: 1, digest: first.digest } })).toEqual({ checkpoint: second, replayed: true });
      expect(await takeCheckpoint(stack.db, stack.signer, { witnessed: { number: 2, digest: second.digest } })).toEqual({ checkpoint: null, replayed: false });
      await stack.tamper('DELETE FROM audit_checkpoint WHERE number = 2');
      await expect(takeCheckpoint(stack.db, stack.signer, { witnessed: { number: 2, digest: second.digest } })).rejects.toThrow(AuditCheckpointError);
      await expect(takeCheckpoint(stack.db, stack.signer, { witnessed: { number: 2, digest: second.digest } })).rejects.toThrow(/the database's checkpoints end at 1: checkpoints were deleted/);
    } finally {
      await stack.stop();
    }
  });
});
