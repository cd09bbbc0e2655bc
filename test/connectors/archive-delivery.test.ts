import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SignedIviMessage } from '../../connectors/delivery/channel.ts';
import { createDeliveryChannel } from '../../connectors/delivery/destinations.ts';
import { createLogger } from '../../platform/logger.ts';
import type { ArchiveDestination } from '../../schemas/config/destinations.ts';

const SPECIMEN = readFileSync(new URL('../fixtures/ivi2/N2-01_electric.xml', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'ecoc-archive-'));
const destination: ArchiveDestination = { id: 'archive', kind: 'archive', dir: join(root, 'archive') };
const channel = await createDeliveryChannel([destination], 'archive', { logger: createLogger('silent'), timeoutMs: 10_000 });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const message = (vin: string, iviVersionNumber: number, extra = ''): SignedIviMessage => ({
  vin,
  iviReferenceId: `6f1c2b1e-0000-4000-8000-00000000000${iviVersionNumber}`,
  iviVersionNumber,
  xml: Buffer.concat([SPECIMEN, Buffer.from(`<!-- ${vin} v${iviVersionNumber}${extra} -->`)]),
});

/** Every file under the archive, relative, sorted (temporary files included: there must be none). */
const files = (): string[] => (readdirSync(destination.dir, { recursive: true, withFileTypes: true }) as Dirent[])
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath, entry.name).slice(destination.dir.length + 1))
  .sort();

describe('archive destination (a local folder)', () => {
  it('writes each signed message byte for byte with its receipt, and a second delivery of the same message is the same file', async () => {
    const first = message('WDB9634031L000001', 1);
    const [outcome] = await channel.deliver({ packageId: 'p1', createdAt: new Date(0).toISOString(), messages: [first] });
    expect(outcome).toMatchObject({ status: 'delivered', receipt: { kind: 'archive_file', acknowledged: true, reference: `messages/WDB9634031L000001/1-${first.iviReferenceId}.xml` } });
    if (outcome?.status !== 'delivered') throw new Error('not delivered');
    expect(readFileSync(join(destination.dir, outcome.receipt.reference)).equals(Buffer.from(first.xml))).toBe(true);

    const [again] = await channel.deliver({ packageId: 'p1', createdAt: new Date(0).toISOString(), messages: [first] });
    expect(again).toMatchObject({ status: 'delivered', receipt: { reference: outcome.receipt.reference, at: outcome.receipt.at, detail: { replayed: true } } });
    expect(files()).toEqual([`messages/WDB9634031L000001/1-${first.iviReferenceId}.receipt.json`, `messages/WDB9634031L000001/1-${first.iviReferenceId}.xml`]);
    const receipt = JSON.parse(readFileSync(join(destination.dir, `messages/WDB9634031L000001/1-${first.iviReferenceId}.receipt.json`), 'utf8')) as Record<string, unknown>;
    expect(receipt).toMatchObject({ vin: first.vin, iviReferenceId: first.iviReferenceId, iviVersionNumber: 1, archivedAt: outcome.receipt.at });
  });

  it('completes a message whose receipt was never written (a crash between the two renames)', async () => {
    const lost = message('WDB9634031L000002', 1);
    const [outcome] = await channel.deliver({ packageId: 'p2', createdAt: new Date(0).toISOString(), messages: [lost] });
    if (outcome?.status !== 'delivered') throw new Error('not delivered');
    const receiptFile = join(destination.dir, outcome.receipt.reference.replace(/\.xml$/, '.receipt.json'));
    rmSync(receiptFile);
    const [retried] = await channel.deliver({ packageId: 'p2', createdAt: new Date(0).toISOString(), messages: [lost] });
    expect(retried).toMatchObject({ status: 'delivered', receipt: { reference: outcome.receipt.reference } });
    expect(JSON.parse(readFileSync(receiptFile, 'utf8'))).toMatchObject({ iviReferenceId: lost.iviReferenceId });
  });

  it('never overwrites other bytes under the same reference id, and archives a correction as its own file', async () => {
    const original = message('WDB9634031L000003', 1);
    await channel.deliver({ packageId: 'p3', createdAt: new Date(0).toISOString(), messages: [original] });
    const [conflict, correction] = await channel.deliver({ packageId: 'p4', createdAt: new Date(0).toISOString(), messages: [message('WDB9634031L000003', 1, ' tampered'), message('WDB9634031L000003', 2)] });
    expect(conflict).toMatchObject({ status: 'rejected', code: 'ARCHIVE_CONFLICT' });
    expect(correction).toMatchObject({ status: 'delivered' });
    expect(readFileSync(join(destination.dir, `messages/WDB9634031L000003/1-${original.iviReferenceId}.xml`)).equals(Buffer.from(original.xml))).toBe(true);
    expect(files().filter((file) => file.startsWith('messages/WDB9634031L000003/') && file.endsWith('.xml'))).toHaveLength(2);
  });

  it('records a withdrawal as a file and leaves no temporary file behind', async () => {
    const outcome = await channel.withdraw('WDB9634031L000001', 'recall');
    expect(outcome).toMatchObject({ status: 'withdrawn', receipt: { kind: 'archive_withdrawal', acknowledged: true } });
    if (outcome.status !== 'withdrawn') throw new Error('not withdrawn');
    expect(JSON.parse(readFileSync(join(destination.dir, outcome.receipt.reference), 'utf8'))).toMatchObject({ vin: 'WDB9634031L000001', reason: 'recall' });
    expect(files().filter((file) => file.includes('.tmp-'))).toEqual([]);
    expect(await channel.fetchAcknowledgement('p1')).toEqual({ status: 'not_applicable' });
  });

  it('refuses to write outside a folder it cannot create', async () => {
    const blocked = join(root, 'not-a-dir');
    writeFileSync(blocked, 'a file where the archive folder should be');
    const broken = await createDeliveryChannel([{ id: 'broken', kind: 'archive', dir: blocked }], 'broken', { logger: createLogger('silent'), timeoutMs: 10_000 });
    await expect(broken.deliver({ packageId: 'p5', createdAt: new Date(0).toISOString(), messages: [message('WDB9634031L000004', 1)] })).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
