import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../platform/wait.ts';
import { approveUpdate, retryUpdate } from '../../workflows/certificate/definitions.ts';
import { assertInvariants } from '../support/invariants.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { startWorkerProcess, waitForProjection, type WorkerProcess } from '../support/release.ts';
import { createSoftHsmToken, type SoftHsmToken, type TokenKey } from '../support/softhsm.ts';

const run = promisify(execFile);
const NEW_PIN = '97531246';

/**
 * HSM faults while certificates go review → signing, with the worker (its own process, configured
 * through ECOC_SIGNER=pkcs11 as in production) signing on a real SoftHSM2 token:
 *
 * - the token vanishes mid-run: signing is retried and resumes when it is back;
 * - the user PIN rotated on the token, the worker still has the old one: the next login fails for
 *   good, naming the PIN variable; a worker started with the old PIN refuses to start;
 * - the configured signing certificate has expired: signing is refused before the token is asked;
 * - the key is deleted from the token: the certificate fails naming the key and what the token holds.
 *
 * In no case is anything marked signed without a signature that verifies, and a failed certificate
 * keeps its reason (state and audit trail) until a person retries it.
 */
describe('chaos: HSM faults through the certificate workflow', () => {
  let h: LifecycleHarness;
  let token: SoftHsmToken;
  let seal: TokenKey;
  let expiredFile: string;
  let dataDir: string;
  let worker: WorkerProcess | undefined;
  const taskQueue = `hsm-faults-${Date.now()}`;
  const accepted: string[] = [];

  beforeAll(async () => {
    // Before anything loads the PKCS#11 module: the token helper sets SOFTHSM2_CONF for this process and its children.
    token = await createSoftHsmToken();
    seal = await token.createKey({ label: 'seal', id: '01' });
    // Issued while the token still has its first PIN (the helper signs with it).
    expiredFile = join(token.dir, 'expired.pem');
    await token.issueCertificate({ id: seal.id, notBefore: new Date(Date.now() - 400 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000), file: expiredFile });
    h = await startLifecycleHarness();
    dataDir = mkdtempSync(join(tmpdir(), 'ecoc-chaos-hsm-'));
    chmodSync(dataDir, 0o755);
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await h?.stop();
    token?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  function workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: h.databaseUrl,
      ECOC_TASK_QUEUE: taskQueue,
      ECOC_DATA_DIR: dataDir,
      ECOC_DESTINATIONS_FILE: h.config.ECOC_DESTINATIONS_FILE!,
      ECOC_LOG_LEVEL: 'warn',
      ECOC_SIGNER: 'pkcs11',
      ECOC_PKCS11_MODULE: token.modulePath,
      ECOC_PKCS11_TOKEN_LABEL: token.label,
      ECOC_PKCS11_PIN: token.pin,
      ECOC_PKCS11_KEY_LABEL: seal.label,
      ECOC_PKCS11_SESSIONS: '2',
      // One signature waits this long for the token, then the step fails retryably and Temporal tries again.
      ECOC_PKCS11_RETRY_TIMEOUT: '2s',
      ...overrides,
    };
  }

  async function replaceWorker(overrides: Record<string, string> = {}): Promise<void> {
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    worker = await startWorkerProcess(inject('workflowBundlePath'), workerEnv(overrides));
  }

  /** Certificates of this file's worker, reviewed and waiting for approval. */
  async function inReview(count: number): Promise<string[]> {
    const ingest = h.ingestOn(taskQueue);
    const ids = await Promise.all(Array.from({ length: count }, async () => (await ingest(specimenRecord(nextVin()))).certificateId));
    accepted.push(...ids);
    await waitForProjection(h, ids, 'in_review', 60_000);
    return ids;
  }

  async function approve(ids: string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const { dataVersion } = await h.status(id);
        await h.client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion }] });
      }),
    );
  }

  /** The signing step's last failed attempt, while Temporal retries it. */
  async function signingRetry(id: string): Promise<{ attempt: number; failure: string } | undefined> {
    const pending = (await h.client.workflow.getHandle(id).describe()).raw.pendingActivities ?? [];
    const signing = pending.find((activity) => activity.activityType?.name === 'signMessage' && activity.lastFailure);
    return signing ? { attempt: signing.attempt ?? 0, failure: signing.lastFailure?.message ?? '' } : undefined;
  }

  async function signedMessages(ids: string[]): Promise<number> {
    return h.db.certificateMessage.count({ where: { certificateId: { in: ids }, signedXml: { not: null } } });
  }

  /** The certificate failed in the signing step: its state and its audit trail say why. */
  async function expectSigningFailure(id: string, reason: RegExp): Promise<void> {
    const state = await h.waitForStatus(id, 'failed', 60_000);
    expect(state.failure).toMatchObject({ step: 'sign' });
    expect(state.failure!.reason).toMatch(reason);
    expect(await signedMessages([id])).toBe(0);
    await waitFor(async () => (await h.db.certificate.findUnique({ where: { id } }))?.status === 'failed', { timeoutMs: 15_000, what: `the failure of ${id} in the audit trail` });
    const audited = await h.db.auditRecord.findFirst({ where: { certificateId: id, action: 'status:failed' } });
    expect((audited?.detail as { note?: string }).note).toMatch(reason);
  }

  /** A person retries the failed certificate: it is signed this time. */
  async function retrySigned(id: string): Promise<void> {
    await h.client.workflow.getHandle(id).executeUpdate(retryUpdate, { args: [{ actor: actors.ops }] });
    await h.waitForStatus(id, 'awaiting_release', 60_000);
    // The invariants read the status row, which follows the workflow with its next audit write.
    await waitForProjection(h, [id], 'awaiting_release', 30_000);
  }

  it('retries signing while the token is away and signs once it is back', async () => {
    await replaceWorker();
    const [first, ...rest] = await inReview(3);
    await approve([first!]);
    await waitForProjection(h, [first!], 'awaiting_release', 60_000);

    token.remove();
    try {
      await approve(rest);
      // Each certificate's step fails (the signer gave up after ECOC_PKCS11_RETRY_TIMEOUT) and Temporal retries it.
      let seen: { attempt: number; failure: string } | undefined;
      await waitFor(async () => (seen = await signingRetry(rest[0]!)) !== undefined, { timeoutMs: 30_000, what: 'a failed signing attempt while the token is away' });
      expect(seen!.failure).toMatch(/did not answer for 2000 ms.*shows no token labelled "ecoc-test"/s);
      expect((await h.status(rest[0]!)).status).toBe('approved');
      expect(await signedMessages(rest)).toBe(0);
    } finally {
      token.restore();
    }
    await waitForProjection(h, rest, 'awaiting_release', 60_000);
    expect(await signedMessages([first!, ...rest])).toBe(3);
  }, 120_000);

  let pinFailed: string;
  it('fails for good when the PIN was rotated under the worker; a worker with the old PIN does not start', async () => {
    pinFailed = (await inReview(1))[0]!;
    await run('pkcs11-tool', ['--module', token.modulePath, '--token-label', token.label, '--login', '--pin', token.pin, '--change-pin', '--new-pin', NEW_PIN]);
    // The worker's open sessions stay logged in; an HSM restart makes it log in again, with the old PIN.
    token.remove();
    try {
      await approve([pinFailed]);
      await waitFor(async () => (await signingRetry(pinFailed)) !== undefined, { timeoutMs: 30_000, what: 'a failed signing attempt while the token is away' });
    } finally {
      token.restore();
    }
    await expectSigningFailure(pinFailed, /Login to PKCS#11 token "ecoc-test".*failed \(CKR_PIN_INCORRECT\): check ECOC_PKCS11_PIN/);

    // A restart with the old PIN stops at start-up, naming the variable.
    worker!.child.kill('SIGTERM');
    await worker!.exited;
    worker = undefined;
    const refused = await startWorkerProcess(inject('workflowBundlePath'), workerEnv()).then(
      () => 'started',
      (error: unknown) => (error as Error).message,
    );
    expect(refused).toMatch(/CKR_PIN_INCORRECT.*ECOC_PKCS11_PIN/s);
  }, 120_000);

  it('refuses to sign with an expired signing certificate; both failed certificates sign when retried after the fix', async () => {
    // It starts (readiness and the expiry gauge say the certificate is expired), but does not sign.
    await replaceWorker({ ECOC_PKCS11_PIN: NEW_PIN, ECOC_SIGNING_CERT_FILE: expiredFile });
    const [expired] = await inReview(1);
    await approve([expired!]);
    await expectSigningFailure(expired!, /Signing certificate ".*" expired on \d{4}-\d\d-\d\dT.*signing is blocked/);

    // The operator configures the new PIN and the token's valid certificate, then retries both.
    await replaceWorker({ ECOC_PKCS11_PIN: NEW_PIN });
    await Promise.all([retrySigned(pinFailed), retrySigned(expired!)]);
  }, 120_000);

  it('fails for good when the key is gone from the token, naming the key and what the token holds', async () => {
    const [id] = await inReview(1);
    await run('pkcs11-tool', ['--module', token.modulePath, '--token-label', token.label, '--login', '--pin', NEW_PIN, '--delete-object', '--type', 'privkey', '--label', seal.label]);
    await approve([id!]);
    await expectSigningFailure(id!, /No private key matches PKCS#11 token "ecoc-test", key label "seal".*private keys on the token: none/s);
  }, 120_000);

  it('leaves every invariant intact', async () => {
    const report = await assertInvariants({ db: h.db, accepted, signingCertificatePem: seal.certificatePem, audit: { config: h.config } });
    // Signed: the three of the outage, the PIN and certificate cases after their retry; the key case failed.
    expect(report.byStatus).toEqual({ awaiting_release: 5, failed: 1 });
  }, 60_000);
});
