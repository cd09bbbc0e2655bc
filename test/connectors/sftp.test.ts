import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentConnectorError, TemporarilyUnavailableError } from '../../connectors/delivery/errors.ts';
import { openSftpSession, withSftpSession } from '../../connectors/sftp/client.ts';
import { createLogger } from '../../platform/logger.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';
import { mountSmallDisk } from '../support/tmpfs.ts';

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

  it('an upload the partner has no room for fails retryably, leaves nothing behind, and succeeds once space is back', async () => {
    const dir = join(sshd.root, 'small');
    mkdirSync(dir);
    const disk = mountSmallDisk(dir, 256 * 1024);
    try {
      const data = Buffer.alloc(100 * 1024, 7);
      disk.fill(40 * 1024); // part of the file fits, then the disk is full
      await withSftpSession(sshd.endpoint('small'), { logger }, async (session) => {
        const error = await session.uploadAtomic('p.zip', data).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TemporarilyUnavailableError);
        expect((error as Error).message).toMatch(/upload .*p\.zip\.part failed: the partner's disk is full \(\d+ bytes free, 102400 needed\)/);
        expect(readdirSync(dir)).toEqual(['.filler']);
        disk.free();
        await session.uploadAtomic('p.zip', data);
      });
      expect(readFileSync(join(dir, 'p.zip')).equals(data)).toBe(true);
      expect(readdirSync(dir)).toEqual(['p.zip']);
    } finally {
      disk.unmount();
    }
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
