import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SftpDeliveryChannel, SignedIviMessage } from '../../connectors/delivery/channel.ts';
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

async function channel(): Promise<SftpDeliveryChannel> {
  const created = await createDeliveryChannel([destination], destination.id, { logger, timeoutMs: 10_000 });
  if (created.kind !== 'sftp') throw new Error('expected an SFTP channel');
  return created;
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
    const outcome = await partner.deliverPackage({ packageId: 'release-2026-07-06-001', createdAt: '2026-07-06T10:00:00Z', messages });
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
    const first = await partner.deliverPackage(request);
    const remote = join(sshd.root, 'partner-in', 'release-redeliver.zip');
    const firstBytes = readFileSync(remote);
    const again = await partner.deliverPackage(request);
    expect(first.status).toBe('delivered');
    expect(again).toMatchObject({ status: 'already_delivered', sha256: (first as { sha256: string }).sha256 });
    expect(readFileSync(remote).equals(firstBytes)).toBe(true);

    const different = await partner.deliverPackage({ ...request, messages: [message('WDB9634031L000004', 1)] });
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
        outcome = await partner.deliverPackage(request);
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

  it('rejects package ids that are not safe file names', async () => {
    const partner = await channel();
    await expect(partner.deliverPackage({ packageId: '../escape', createdAt: '2026-07-06T12:00:00Z', messages: [message('WDB9634031L000006', 1)] })).rejects.toThrow(/letters, digits/);
  });
});
