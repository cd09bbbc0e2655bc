import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryBatch, DeliveryChannel, DeliveryOutcome, SignedIviMessage } from '../../connectors/delivery/channel.ts';
import { createDeliveryChannel } from '../../connectors/delivery/destinations.ts';
import { isRetryable, PermanentConnectorError, TemporarilyUnavailableError } from '../../connectors/delivery/errors.ts';
import { packageManifestSchema } from '../../connectors/delivery/sftp-package.ts';
import { createLogger } from '../../platform/logger.ts';
import type { SftpDestination } from '../../schemas/config/destinations.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';
import { unzip } from '../support/zip.ts';

const logger = createLogger('silent');
const SPECIMEN = readFileSync(new URL('../fixtures/ivi2/N2-01_electric.xml', import.meta.url));
let sshd: TestSshd;
let destination: SftpDestination;

const message = (vin: string, iviVersionNumber: number): SignedIviMessage => ({
  vin,
  iviReferenceId: `ref-${vin}-${iviVersionNumber}`,
  iviVersionNumber,
  xml: Buffer.concat([SPECIMEN, Buffer.from(`<!-- ${vin} v${iviVersionNumber} -->`)]),
});

async function channel(): Promise<DeliveryChannel> {
  const created = await createDeliveryChannel([destination], destination.id, { logger, timeoutMs: 10_000 });
  if (created.kind !== 'sftp') throw new Error('expected an SFTP channel');
  return created;
}

/**
 * A batch is one package: every message gets the same outcome. Returns that outcome (receipt
 * detail flattened in, as the package summary used to be) after checking each message got it.
 */
async function deliverPackage(partner: DeliveryChannel, batch: DeliveryBatch) {
  const outcomes = await partner.deliver(batch);
  expect(outcomes.map((o) => o.iviReferenceId)).toEqual(batch.messages.map((m) => m.iviReferenceId));
  const first = outcomes[0]!;
  if (first.status === 'unavailable') throw first.error;
  if (first.status === 'rejected') {
    expect(outcomes.every((o) => o.status === 'rejected' && o.code === first.code && o.message === first.message)).toBe(true);
    return first;
  }
  const delivered = outcomes as Extract<DeliveryOutcome, { status: 'delivered' }>[];
  const files = delivered.map((o) => (o.receipt.detail as { file: string }).file);
  expect(files).toEqual(batch.messages.map((m) => `${m.vin}_v${m.iviVersionNumber}.xml`));
  for (const { receipt } of delivered) {
    expect(receipt).toMatchObject({ kind: 'sftp_package', reference: first.receipt.reference, at: first.receipt.at, acknowledged: false });
    expect({ ...receipt.detail, file: undefined }).toEqual({ ...first.receipt.detail, file: undefined });
  }
  return { ...(first.receipt.detail as { status: string; packageId: string; packageName: string; sha256: string; size: number; count: number }) };
}

beforeAll(async () => {
  sshd = await startTestSshd();
  mkdirSync(join(sshd.root, 'partner-in'));
  destination = { id: 'bodybuilder', kind: 'sftp', ...sshd.endpoint('partner-in') };
});
afterAll(async () => {
  await sshd?.dispose();
});

describe('SFTP partner delivery', () => {
  it('uploads a zip of the signed files with a manifest, and picks up the partner acknowledgement', async () => {
    const partner = await channel();
    const messages = [message('WDB9634031L000001', 1), message('WDB9634031L000002', 3)];
    const outcome = await deliverPackage(partner, { packageId: 'release-2026-07-06-001', createdAt: '2026-07-06T10:00:00Z', messages });
    expect(outcome).toMatchObject({ status: 'delivered', packageName: 'release-2026-07-06-001.zip', count: 2 });

    const remote = join(sshd.root, 'partner-in', 'release-2026-07-06-001.zip');
    expect(readdirSync(join(sshd.root, 'partner-in'))).toEqual(['release-2026-07-06-001.zip']);
    expect(createHash('sha256').update(readFileSync(remote)).digest('hex')).toBe((outcome as { sha256: string }).sha256);
    const entries = await unzip(remote);
    expect([...entries.keys()]).toEqual(['manifest.json', 'WDB9634031L000001_v1.xml', 'WDB9634031L000002_v3.xml']);
    expect(entries.get('WDB9634031L000002_v3.xml')!.equals(Buffer.from(messages[1]!.xml))).toBe(true);
    const manifest = packageManifestSchema.parse(JSON.parse(entries.get('manifest.json')!.toString()));
    expect(manifest).toMatchObject({ packageId: 'release-2026-07-06-001', destination: 'bodybuilder', count: 2, createdAt: '2026-07-06T10:00:00Z' });
    expect(manifest.files[1]).toEqual({
      name: 'WDB9634031L000002_v3.xml',
      vin: 'WDB9634031L000002',
      iviReferenceId: 'ref-WDB9634031L000002-3',
      iviVersionNumber: 3,
      sha256: createHash('sha256').update(messages[1]!.xml).digest('hex'),
      size: messages[1]!.xml.byteLength,
    });

    expect(await partner.fetchAcknowledgement('release-2026-07-06-001')).toEqual({ status: 'pending', packageName: 'release-2026-07-06-001.zip' });
    const ack = {
      packageId: 'release-2026-07-06-001',
      receivedAt: '2026-07-06T10:05:00Z',
      files: [
        { name: 'WDB9634031L000001_v1.xml', status: 'accepted' },
        { name: 'WDB9634031L000002_v3.xml', status: 'rejected', code: 'BODY_MISMATCH', reason: 'body type differs from order' },
      ],
    };
    writeFileSync(join(sshd.root, 'partner-in', 'release-2026-07-06-001.ack.json'), JSON.stringify(ack));
    expect(await partner.fetchAcknowledgement('release-2026-07-06-001')).toEqual({ status: 'acknowledged', packageName: 'release-2026-07-06-001.zip', acknowledgement: ack });
  });

  it('never duplicates a re-delivered package, and refuses to overwrite a different one of the same name', async () => {
    const partner = await channel();
    const request = { packageId: 'release-redeliver', createdAt: '2026-07-06T11:00:00Z', messages: [message('WDB9634031L000003', 1)] };
    const first = await deliverPackage(partner, request);
    const remote = join(sshd.root, 'partner-in', 'release-redeliver.zip');
    const firstBytes = readFileSync(remote);
    const again = await deliverPackage(partner, request);
    expect(first.status).toBe('delivered');
    expect(again).toMatchObject({ status: 'already_delivered', sha256: (first as { sha256: string }).sha256 });
    expect(readFileSync(remote).equals(firstBytes)).toBe(true);

    const different = await deliverPackage(partner, { ...request, messages: [message('WDB9634031L000004', 1)] });
    expect(different).toMatchObject({ status: 'rejected', code: 'PACKAGE_CONFLICT' });
    expect(readFileSync(remote).equals(firstBytes)).toBe(true);
  });

  it('reports a malformed acknowledgement naming the file and field', async () => {
    const partner = await channel();
    writeFileSync(join(sshd.root, 'partner-in', 'release-badack.ack.json'), JSON.stringify({ packageId: 'release-badack', receivedAt: 'yesterday', files: [] }));
    const error = await partner.fetchAcknowledgement('release-badack').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentConnectorError);
    expect((error as Error).message).toMatch(/release-badack\.ack\.json.*receivedAt/);
    writeFileSync(join(sshd.root, 'partner-in', 'release-badack.ack.json'), '{not json');
    await expect(partner.fetchAcknowledgement('release-badack')).rejects.toThrow(/release-badack\.ack\.json is not JSON/);
  });

  it('survives the partner server being down for a while: retryable errors, then delivered once it is back', async () => {
    const partner = await channel();
    const request = { packageId: 'release-outage', createdAt: '2026-07-06T12:00:00Z', messages: [message('WDB9634031L000005', 1)] };
    await sshd.stop();
    const failures: unknown[] = [];
    let outcome;
    // The activity's retry loop as Temporal runs it: each failure here is one attempt; the
    // server comes back after the second failed attempt.
    for (let attempt = 1; attempt <= 5 && !outcome; attempt++) {
      try {
        outcome = await deliverPackage(partner, request);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        failures.push(error);
        if (failures.length === 2) await sshd.start();
      }
    }
    expect(failures).toHaveLength(2);
    expect(failures.every((f) => f instanceof TemporarilyUnavailableError)).toBe(true);
    expect(outcome).toMatchObject({ status: 'delivered', packageName: 'release-outage.zip' });
    expect(existsSync(join(sshd.root, 'partner-in', 'release-outage.zip'))).toBe(true);
    expect(existsSync(join(sshd.root, 'partner-in', 'release-outage.zip.part'))).toBe(false);
  });

  it('does not notify a partner of a withdrawal, and sends nothing for an empty batch', async () => {
    const partner = await channel();
    expect(await partner.withdraw('WDB9634031L000007', 'vehicle not placed on the market')).toEqual({ status: 'not_notified', reference: 'partner-not-notified' });
    expect(await partner.deliver({ packageId: 'release-empty', createdAt: '2026-07-06T12:00:00Z', messages: [] })).toEqual([]);
    expect(existsSync(join(sshd.root, 'partner-in', 'release-empty.zip'))).toBe(false);
  });

  it('rejects package ids that are not safe file names', async () => {
    const partner = await channel();
    await expect(deliverPackage(partner, { packageId: '../escape', createdAt: '2026-07-06T12:00:00Z', messages: [message('WDB9634031L000006', 1)] })).rejects.toThrow(/letters, digits/);
  });
});
