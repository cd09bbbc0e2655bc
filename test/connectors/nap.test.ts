import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeySigner } from '../../connectors/hsm/signer.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../../connectors/hsm/software.ts';
import type { DeliveryChannel, DeliveryOutcome, SignedIviMessage } from '../../connectors/delivery/channel.ts';
import { createDeliveryChannel, loadDestinations, UnknownDestinationError } from '../../connectors/delivery/destinations.ts';
import { isRetryable, PermanentConnectorError, TemporarilyUnavailableError } from '../../connectors/delivery/errors.ts';
import { createLogger } from '../../platform/logger.ts';
import type { NapDestination } from '../../schemas/config/destinations.ts';
import { signIvi } from '../../signing/sign-ivi.ts';
import { startNapSimulatorProcess, type NapSimulatorProcess } from '../support/nap-simulator.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const logger = createLogger('silent');
const SPECIMEN = readFileSync(new URL('../fixtures/ivi2/M1-01_electric.xml', import.meta.url), 'utf8');
const SPECIMEN_VIN = 'JTJM1C0MPTEST0001';

let pki: TestPki;
let workDir: string;
let stateDir: string;
let simulator: NapSimulatorProcess;
let signer: KeySigner;
let destination: NapDestination;

/** The specimen for another VIN/version, its illustrative signature replaced by a real one. */
async function signedMessage(vin: string, iviVersionNumber: number, edit: (xml: string) => string = (x) => x): Promise<SignedIviMessage> {
  const iviReferenceId = randomUUID();
  const unsigned = edit(
    SPECIMEN.replace(/\s*<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/, '')
      .replace(/<IviReferenceId>[^<]*<\/IviReferenceId>/, `<IviReferenceId>${iviReferenceId}</IviReferenceId>`)
      .replace(/<IviVersionNumber>\d+<\/IviVersionNumber>/, `<IviVersionNumber>${iviVersionNumber}</IviVersionNumber>`)
      .replaceAll(SPECIMEN_VIN, vin),
  );
  const signed = await signIvi(unsigned, signer);
  return { vin, iviReferenceId, iviVersionNumber, xml: Buffer.from(signed.signedXml, 'utf8') };
}

async function channel(overrides: Partial<NapDestination> = {}): Promise<DeliveryChannel> {
  const created = await createDeliveryChannel([{ ...destination, ...overrides }], destination.id, { logger, timeoutMs: 10_000 });
  if (created.kind !== 'nap') throw new Error('expected a NAP channel');
  return created;
}

/** One message as a batch of one; an outage outcome is thrown, as the delivery activity does after storing the rest. */
async function deliverOne(nap: DeliveryChannel, message: SignedIviMessage): Promise<Exclude<DeliveryOutcome, { status: 'unavailable' }>> {
  const outcomes = await nap.deliver({ packageId: `test-${message.iviReferenceId}`, createdAt: new Date(0).toISOString(), messages: [message] });
  expect(outcomes).toHaveLength(1);
  const outcome = outcomes[0]!;
  expect(outcome.iviReferenceId).toBe(message.iviReferenceId);
  if (outcome.status === 'unavailable') throw outcome.error;
  return outcome;
}

function admin(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${simulator.port}${path}`,
      { method: body === undefined ? 'GET' : 'POST', cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey), ca: readFileSync(pki.caCert), headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(async () => {
  pki = createTestPki();
  workDir = mkdtempSync(join(tmpdir(), 'ecoc-nap-test-'));
  stateDir = join(workDir, 'state');
  simulator = await startNapSimulatorProcess(pki, stateDir);
  const keys = await ensureSoftwareKey(join(workDir, 'signing'));
  signer = await openSoftwareSigner(keys);
  destination = {
    id: 'nap-be',
    kind: 'nap',
    url: simulator.url,
    clientCertFile: pki.clientCert,
    clientKeyFile: pki.clientKey,
    caFile: pki.caCert,
    memberState: 'e6',
    soapVersion: '1.1',
  };
});

afterAll(async () => {
  await simulator?.stop();
  await signer?.close();
  pki?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('NAP delivery against the simulator over mutual TLS', () => {
  it('delivers a signed message, then a correction as the next version, then withdraws by VIN', async () => {
    const nap = await channel();
    try {
      const first = await signedMessage('WVWZZZ1JZXW000001', 1);
      const delivered = await deliverOne(nap, first);
      expect(delivered).toMatchObject({
        status: 'delivered',
        iviReferenceId: first.iviReferenceId,
        receipt: { kind: 'nap_receipt', acknowledged: true, detail: { vin: first.vin, iviReferenceId: first.iviReferenceId, replayed: false } },
      });

      const correction = await signedMessage('WVWZZZ1JZXW000001', 2);
      const corrected = await deliverOne(nap, correction);
      expect(corrected.status).toBe('delivered');

      const stored = await admin(`/admin/vins/${first.vin}`);
      expect((stored.json as { messages: { iviVersionNumber: number; iviReferenceId: string }[] }).messages.map((m) => [m.iviVersionNumber, m.iviReferenceId])).toEqual([
        [1, first.iviReferenceId],
        [2, correction.iviReferenceId],
      ]);
      // The simulator kept the exact bytes that were signed.
      const { receipt } = delivered as Extract<DeliveryOutcome, { status: 'delivered' }>;
      const receiptId = receipt.reference;
      expect(receipt.detail).toMatchObject({ receiptId });
      expect(readFileSync(join(stateDir, 'messages', `${receiptId}.xml`)).equals(Buffer.from(first.xml))).toBe(true);

      const withdrawn = await nap.withdraw(first.vin, 'vehicle not placed on the market');
      expect(withdrawn).toMatchObject({ status: 'withdrawn', receipt: { kind: 'nap_withdrawal', detail: { vin: first.vin } } });
      const again = await nap.withdraw(first.vin, 'twice');
      expect(again).toMatchObject({ status: 'rejected', code: 'UNKNOWN_VIN' });
    } finally {
      await nap.close();
    }
  });

  it('speaks SOAP 1.2 as well', async () => {
    const nap = await channel({ soapVersion: '1.2' });
    try {
      expect((await deliverOne(nap, await signedMessage('WVWZZZ1JZXW000012', 1))).status).toBe('delivered');
      expect(await nap.withdraw('WVWZZZ1JZXW000099', 'never sent')).toMatchObject({ status: 'rejected', code: 'UNKNOWN_VIN' });
    } finally {
      await nap.close();
    }
  });

  it('rejects what a NAP rejects, each with its reason code', async () => {
    const nap = await channel();
    try {
      const base = await signedMessage('WVWZZZ1JZXW000002', 1);
      expect((await deliverOne(nap, base)).status).toBe('delivered');

      // The same call again (a retry after a lost answer) is answered with the original receipt.
      const replay = await deliverOne(nap, base);
      expect(replay).toMatchObject({ status: 'delivered', receipt: { detail: { replayed: true } } });

      const sameVersion = await signedMessage('WVWZZZ1JZXW000002', 1);
      expect(await deliverOne(nap, sameVersion)).toMatchObject({ status: 'rejected', code: 'VERSION_NOT_INCREASING' });

      const reused = await signedMessage('WVWZZZ1JZXW000003', 1);
      expect(await deliverOne(nap, { ...reused, iviReferenceId: base.iviReferenceId })).toMatchObject({ status: 'rejected', code: 'DUPLICATE_REFERENCE_ID' });

      const fresh = await signedMessage('WVWZZZ1JZXW000004', 1);
      const tamperedFresh = Buffer.from(Buffer.from(fresh.xml).toString('utf8').replace(/<Variant>([^<]*)<\/Variant>/, '<Variant>$1Z</Variant>'));
      expect(tamperedFresh.equals(Buffer.from(fresh.xml))).toBe(false);
      expect(await deliverOne(nap, { ...fresh, xml: tamperedFresh })).toMatchObject({ status: 'rejected', code: 'SIGNATURE_INVALID' });

      const unsigned = Buffer.from(Buffer.from(fresh.xml).toString('utf8').replace(/<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/, ''));
      expect(unsigned.toString()).toContain('<SignatureLocation>');
      expect(await deliverOne(nap, { ...fresh, xml: unsigned })).toMatchObject({ status: 'rejected', code: 'SIGNATURE_MISSING' });

      const invalid = await signedMessage('WVWZZZ1JZXW000005', 1, (xml) => xml.replace(/<VehicleCategory>[^<]*<\/VehicleCategory>/, '<VehicleCategory>ZZ</VehicleCategory>'));
      const schema = await deliverOne(nap, invalid);
      expect(schema).toMatchObject({ status: 'rejected', code: 'SCHEMA_INVALID' });
      expect((schema as { message: string }).message).toMatch(/VehicleCategory/);

      const mismatch = await signedMessage('WVWZZZ1JZXW000006', 1);
      expect(await deliverOne(nap, { ...mismatch, vin: 'WVWZZZ1JZXW000007' })).toMatchObject({ status: 'rejected', code: 'HEADER_MISMATCH' });

      const hostile = Buffer.from('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>');
      expect(await deliverOne(nap, { ...fresh, iviReferenceId: randomUUID(), xml: hostile })).toMatchObject({ status: 'rejected', code: 'SCHEMA_INVALID' });
    } finally {
      await nap.close();
    }
  });

  it('is refused by the NAP without a client certificate', async () => {
    const error = await new Promise<unknown>((resolve) => {
      const req = request(`${simulator.url}`, { method: 'POST', ca: readFileSync(pki.caCert) }, () => resolve(undefined));
      req.on('error', resolve);
      req.end('<x/>');
    });
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET|HANDSHAKE/);
  });

  it('is refused with a client certificate from another CA, and rejects unusable credentials at once', async () => {
    const message = await signedMessage('WVWZZZ1JZXW000008', 1);
    const rogue = await channel({ clientCertFile: pki.rogueClientCert, clientKeyFile: pki.rogueClientKey });
    try {
      const error = await deliverOne(rogue, message).catch((e: unknown) => e);
      // TLS 1.2 reports the refusal as an alert (permanent); under TLS 1.3 the client has already
      // sent its request when the server's verdict arrives, and often sees only a reset (retried).
      if (error instanceof PermanentConnectorError) expect(error.code).toBe('TLS_REFUSED');
      else expect((error as Error).message).toMatch(/ECONNRESET|ALERT/);
      expect((await admin(`/admin/vins/${message.vin}`)).status).toBe(404);
    } finally {
      await rogue.close();
    }
    const empty = join(workDir, 'empty.pem');
    writeFileSync(empty, '');
    await expect(channel({ clientCertFile: empty })).rejects.toMatchObject({ code: 'CLIENT_CERTIFICATE_INVALID' });
  });

  it('surfaces an outage as retryable, and a caller that retries succeeds once it is over', async () => {
    expect((await admin('/admin/outage', { calls: 2 })).json).toEqual({ outageRemaining: 2 });
    const nap = await channel();
    try {
      const message = await signedMessage('WVWZZZ1JZXW000009', 1);
      const failures: unknown[] = [];
      let outcome;
      // What Temporal's retry policy does for the activity, without the backoff.
      for (let attempt = 1; attempt <= 5 && !outcome; attempt++) {
        try {
          outcome = await deliverOne(nap, message);
        } catch (error) {
          if (!isRetryable(error)) throw error;
          failures.push(error);
        }
      }
      expect(failures).toHaveLength(2);
      expect(failures[0]).toBeInstanceOf(TemporarilyUnavailableError);
      expect((failures[0] as TemporarilyUnavailableError).retryAfterMs).toBe(1000);
      expect(outcome).toMatchObject({ status: 'delivered', receipt: { detail: { replayed: false } } });
    } finally {
      await nap.close();
    }
  });

  it('a slow NAP and one that never answers: the call times out retryably, the resend gets the first receipt', async () => {
    const nap = await createDeliveryChannel([destination], destination.id, { logger, timeoutMs: 1_000 });
    try {
      for (const ms of [3_000, 'never'] as const) {
        expect((await admin('/admin/delay', { ms, calls: 1 })).status).toBe(200);
        const message = await signedMessage(ms === 'never' ? 'WVWZZZ1JZXW000041' : 'WVWZZZ1JZXW000040', 1);
        const error = await deliverOne(nap, message).catch((caught: unknown) => caught);
        expect(error, `delay ${ms}`).toBeInstanceOf(TemporarilyUnavailableError);
        expect((error as Error).message).toMatch(/no answer within 1000 ms/);
        // The NAP stored it although the client heard nothing; the resend (the delay was for one call) is recognised.
        expect(((await admin(`/admin/vins/${message.vin}`)).json as { messages: unknown[] }).messages).toHaveLength(1);
        expect(await deliverOne(nap, message)).toMatchObject({ status: 'delivered', receipt: { detail: { replayed: true } } });
        expect(((await admin(`/admin/vins/${message.vin}`)).json as { messages: unknown[] }).messages).toHaveLength(1);
      }
      expect((await admin('/admin/delay', { ms: 'soon' })).status).toBe(400);
    } finally {
      await nap.close();
    }
  });

  it('answers a batch message by message: an outage on some calls leaves the others delivered', async () => {
    const nap = await createDeliveryChannel([destination], destination.id, { logger, timeoutMs: 10_000, concurrency: 1 });
    try {
      const messages = [await signedMessage('WVWZZZ1JZXW000013', 1), await signedMessage('WVWZZZ1JZXW000014', 1), await signedMessage('WVWZZZ1JZXW000015', 1)];
      await admin('/admin/outage', { calls: 2 });
      let progress = 0;
      const outcomes = await nap.deliver({ packageId: 'nap-batch', createdAt: new Date(0).toISOString(), messages }, { onProgress: () => (progress += 1) });
      expect(outcomes.map((o) => [o.iviReferenceId, o.status])).toEqual([
        [messages[0]!.iviReferenceId, 'unavailable'],
        [messages[1]!.iviReferenceId, 'unavailable'],
        [messages[2]!.iviReferenceId, 'delivered'],
      ]);
      expect((outcomes[0] as { error: unknown }).error).toBeInstanceOf(TemporarilyUnavailableError);
      expect(progress).toBe(3);
      expect((await admin(`/admin/vins/${messages[0]!.vin}`)).status).toBe(404);
      // A NAP receipt is the acknowledgement: nothing to fetch later.
      expect(await nap.fetchAcknowledgement('nap-batch')).toEqual({ status: 'not_applicable' });
    } finally {
      await nap.close();
    }
  });

  it('reports an unreachable NAP as retryable', async () => {
    const nap = await channel({ url: 'https://127.0.0.1:1/nap' });
    try {
      const error = await deliverOne(nap, await signedMessage('WVWZZZ1JZXW000010', 1)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TemporarilyUnavailableError);
    } finally {
      await nap.close();
    }
  });

  it('keeps its state across a restart of the simulator process', async () => {
    const nap = await channel();
    const first = await signedMessage('WVWZZZ1JZXW000011', 1);
    try {
      expect((await deliverOne(nap, first)).status).toBe('delivered');
    } finally {
      await nap.close();
    }
    await simulator.stop();
    simulator = await startNapSimulatorProcess(pki, stateDir, simulator.port);
    const restarted = await channel();
    try {
      expect(await deliverOne(restarted, await signedMessage(first.vin, 1))).toMatchObject({ status: 'rejected', code: 'VERSION_NOT_INCREASING' });
    } finally {
      await restarted.close();
    }
  });
});

describe('destinations configuration', () => {
  it('names the configured ids when a destination is unknown', async () => {
    const error = await createDeliveryChannel([destination], 'nap-fr', { logger, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownDestinationError);
    expect((error as Error).message).toBe('unknown delivery destination "nap-fr"; configured: nap-be');
  });

  it('validates the destinations file and names the bad entry', async () => {
    const file = join(workDir, 'destinations.json');
    writeFileSync(file, JSON.stringify([destination, { id: 'partner', kind: 'sftp', host: 'h', username: 'u', privateKeyFile: '/k', hostKeySha256: 'md5:xx', remoteDir: '/in' }]));
    await expect(loadDestinations(file)).rejects.toThrow(/\[1\.hostKeySha256\] expected an OpenSSH SHA-256 fingerprint/);
    writeFileSync(file, JSON.stringify([{ ...destination, url: 'http://nap.example/soap' }]));
    await expect(loadDestinations(file)).rejects.toThrow(/\[0\.url\] a NAP is only reachable over https/);
    writeFileSync(file, JSON.stringify([destination]));
    expect(await loadDestinations(file)).toEqual([destination]);
    await expect(loadDestinations(join(workDir, 'missing.json'))).rejects.toThrow(/missing\.json/);
  });
});
