import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentConnectorError, TemporarilyUnavailableError } from '../../connectors/delivery/errors.ts';
import { openSftpSession, withSftpSession } from '../../connectors/sftp/client.ts';
import { createLogger } from '../../platform/logger.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';

const logger = createLogger('silent');
let sshd: TestSshd;

beforeAll(async () => {
  sshd = await startTestSshd();
  mkdirSync(join(sshd.root, 'box'));
});
afterAll(async () => {
  await sshd?.dispose();
});

describe('SFTP client against a real OpenSSH sshd', () => {
  it('uploads atomically, lists, reads, streams and moves files', async () => {
    await withSftpSession(sshd.endpoint('box'), { logger }, async (session) => {
      await session.uploadAtomic('a.txt', Buffer.from('hello'));
      expect(existsSync(join(sshd.root, 'box', 'a.txt.part'))).toBe(false);
      expect(readFileSync(join(sshd.root, 'box', 'a.txt'), 'utf8')).toBe('hello');
      const names = (await session.list()).map((f) => f.name);
      expect(names).toEqual(['a.txt']);
      expect((await session.read('a.txt')).toString()).toBe('hello');
      const chunks: Buffer[] = [];
      for await (const chunk of session.readStream('a.txt')) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('hello');
      await session.ensureDir('processed');
      await session.move('a.txt', 'processed/a.txt');
      expect(await session.exists('a.txt')).toBe(false);
      expect(await session.exists('processed/a.txt')).toBe(true);
    });
  });

  it('refuses paths that leave the configured directory', async () => {
    await withSftpSession(sshd.endpoint('box'), { logger }, async (session) => {
      await expect(session.read('../../etc/passwd')).rejects.toMatchObject({ code: 'PATH_OUTSIDE_ROOT' });
    });
  });

  it('refuses a server whose host key does not match the configured fingerprint', async () => {
    const wrong = { ...sshd.endpoint(), hostKeySha256: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' };
    const error = await openSftpSession(wrong, { logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentConnectorError);
    expect((error as PermanentConnectorError).code).toBe('HOST_KEY_MISMATCH');
    expect((error as Error).message).toContain(sshd.endpoint().hostKeySha256);
  });

  it('reports a key the server does not accept as permanent', async () => {
    const stranger = { ...sshd.endpoint(), privateKeyFile: sshd.strangerKeyFile };
    const error = await openSftpSession(stranger, { logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentConnectorError);
    expect((error as PermanentConnectorError).code).toBe('AUTHENTICATION_FAILED');
  });

  it('reports a missing key file naming the file', async () => {
    const missing = { ...sshd.endpoint(), privateKeyFile: '/nonexistent/key' };
    await expect(openSftpSession(missing, { logger })).rejects.toThrow(/\/nonexistent\/key/);
  });

  it('reports a stopped server as temporarily unavailable, and works again once it is back', async () => {
    writeFileSync(join(sshd.root, 'box', 'b.txt'), 'still here');
    await sshd.stop();
    try {
      const error = await openSftpSession(sshd.endpoint('box'), { logger }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TemporarilyUnavailableError);
    } finally {
      await sshd.start();
    }
    const text = await withSftpSession(sshd.endpoint('box'), { logger }, async (session) => (await session.read('b.txt')).toString());
    expect(text).toBe('still here');
  });
});
