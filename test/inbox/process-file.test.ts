import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSftpSession, type SftpSession } from '../../connectors/sftp/client.ts';
import { processInboxFile, type InboxContext } from '../../inbox/files.ts';
import { createLogger } from '../../platform/logger.ts';
import { erpMappingSchema } from '../../schemas/erp/mapping.ts';
import { certificateWorkflowId } from '../../workflows/certificate/definitions.ts';
import type { InboxFileProgress } from '../../workflows/inbox/types.ts';
import { nextVin, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';
import { acmeMapping, CSV_HEADER, csvRow, deliver, present, readReport } from './support.ts';

const logger = createLogger('warn');

/** One inbox file through `processInboxFile` on a real SFTP session, watching how it is read. */
describe('processing one inbox file', { timeout: 300_000 }, () => {
  let sshd: TestSshd;
  let h: LifecycleHarness;
  let session: SftpSession;
  let inbox: string;
  const mapping = erpMappingSchema.parse({ ...acmeMapping, manufacturerId: 'direct' });

  beforeAll(async () => {
    sshd = await startTestSshd();
    inbox = join(sshd.root, 'inbox');
    mkdirSync(join(inbox, 'direct', 'processed'), { recursive: true });
    mkdirSync(join(inbox, 'direct', 'rejected'), { recursive: true });
    h = await startLifecycleHarness();
    session = await openSftpSession(sshd.endpoint('inbox'), { logger });
  });
  afterAll(async () => {
    await session?.close();
    await h?.stop();
    await sshd?.dispose();
  });

  const context = (over: Partial<InboxContext> = {}): InboxContext => ({
    db: h.db,
    session,
    mappings: new Map([['direct', mapping]]),
    ingest: { db: h.db, client: h.client, taskQueue: h.taskQueue, review: h.review, destinations: h.destinations },
    actor: { id: 'erp-inbox', roles: ['integrator'] },
    logger,
    ...over,
  });

  /** The real session, with the processing read (the second of the file) observed or cut. */
  function observed(onChunk: (read: number, call: number) => void): SftpSession {
    let calls = 0;
    return Object.assign(Object.create(session) as SftpSession, {
      readStream(path: string) {
        const call = ++calls;
        let read = 0;
        return Readable.from(
          (async function* () {
            for await (const chunk of session.readStream(path) as AsyncIterable<Buffer>) {
              read += chunk.byteLength;
              onChunk(read, call);
              yield chunk;
            }
          })(),
        );
      },
    });
  }

  it('streams 10,000 rows: rows are processed while most of the file is still unread, progress row by row', async () => {
    const lines = [CSV_HEADER, csvRow(nextVin()), ...Array.from({ length: 9_999 }, (_, i) => csvRow(`WVWSTRM${String(i).padStart(10, '0')}`, 'n/a'))];
    deliver(inbox, 'direct/stream.csv', `${lines.join('\n')}\n`);
    const size = statSync(join(inbox, 'direct/stream.csv')).size;
    let processingRead = 0;
    const progress: InboxFileProgress[] = [];
    let readAtFirstRow = -1;
    const done = await processInboxFile(
      context({
        session: observed((read, call) => {
          if (call === 2) processingRead = read;
        }),
        onProgress: (update) => {
          if (update.phase === 'ingesting' && readAtFirstRow < 0) readAtFirstRow = processingRead;
          progress.push(update);
        },
      }),
      { manufacturerId: 'direct', name: 'stream.csv', size },
    );
    expect(done).toMatchObject({ disposition: 'processed', rows: 10_000, accepted: 1, rejected: 9_999, movedTo: 'direct/processed/stream.csv' });
    expect(size).toBeGreaterThan(700_000);
    expect(readAtFirstRow).toBeGreaterThan(0);
    expect(readAtFirstRow).toBeLessThan(size / 4);
    const rowsDone = progress.filter((p) => p.phase === 'ingesting').map((p) => p.rowsDone);
    expect(rowsDone).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(progress.filter((p) => p.phase === 'hashing').at(-1)?.bytesHashed).toBe(size);
  });

  it('re-processes a file after the connection broke mid-file: the report is complete and nothing is ingested twice', async () => {
    const vins = [nextVin(), nextVin(), nextVin()];
    const content = `${[CSV_HEADER, csvRow(vins[0]!), csvRow(vins[1]!), csvRow(vins[2]!, 'x'), csvRow(vins[2]!)].join('\n')}\n`;
    deliver(inbox, 'direct/resume.csv', content);
    const file = { manufacturerId: 'direct', name: 'resume.csv', size: Buffer.byteLength(content) };
    const cutAfter = content.indexOf(vins[2]!);
    let reads = 0;
    const broken = Object.assign(Object.create(session) as SftpSession, {
      readStream(path: string) {
        reads += 1;
        if (reads === 1) return session.readStream(path);
        return Readable.from(
          (async function* () {
            yield Buffer.from(content.slice(0, cutAfter));
            throw new Error('Connection lost');
          })(),
        );
      },
    });
    await expect(processInboxFile(context({ session: broken }), file)).rejects.toThrow('Connection lost');
    const interrupted = await h.db.erpInboxFile.findFirstOrThrow({ where: { manufacturerId: 'direct', fileName: 'resume.csv' } });
    expect(interrupted).toMatchObject({ status: 'processing', attempts: 1 });
    expect(await h.db.certificateDataVersion.count({ where: { certificateId: { in: vins.map((v) => certificateWorkflowId(v, 1)) } } })).toBe(2);
    expect(present(inbox, 'direct/resume.csv')).toBe(true);

    const done = await processInboxFile(context(), file);
    expect(done).toMatchObject({ disposition: 'processed', rows: 4, accepted: 3, rejected: 1 });
    expect(readReport(inbox, 'direct/processed/resume.csv').rows.map((r) => [r.row, r.status])).toEqual([
      [2, 'accepted'],
      [3, 'accepted'],
      [4, 'rejected'],
      [5, 'accepted'],
    ]);
    expect(await h.db.erpInboxFile.findFirstOrThrow({ where: { id: interrupted.id } })).toMatchObject({ status: 'processed', attempts: 2, rows: 4, accepted: 3 });
    for (const vin of vins) expect(await h.db.certificateDataVersion.count({ where: { certificateId: certificateWorkflowId(vin, 1) } })).toBe(1);
  });
});
