import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLocalPki } from '../../platform/local-pki.ts';

const root = mkdtempSync(join(tmpdir(), 'ecoc-local-pki-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the local PKI of the embedded NAP simulator', () => {
  it('issues a CA, a server certificate for localhost/127.0.0.1 and a client certificate that OpenSSL verifies for their purposes', async () => {
    const pki = await ensureLocalPki(join(root, 'pki'), 'test');
    const verify = (purpose: string, file: string) => execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', pki.caCert, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(verify('sslserver', pki.serverCert)).toContain(': OK');
    expect(verify('sslclient', pki.clientCert)).toContain(': OK');
    // Each is for its own side only.
    expect(() => verify('sslclient', pki.serverCert)).toThrow();
    const server = new X509Certificate(readFileSync(pki.serverCert));
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.verify(new X509Certificate(readFileSync(pki.caCert)).publicKey)).toBe(true);
    expect(statSync(pki.serverKey).mode & 0o077).toBe(0);
    expect(statSync(pki.clientKey).mode & 0o077).toBe(0);
  });

  it('is created once: a second start (or two at once) finds the same files', async () => {
    const dir = join(root, 'shared');
    const [first, second] = await Promise.all([ensureLocalPki(dir, 'test'), ensureLocalPki(dir, 'test')]);
    expect(first).toEqual(second);
    const ca = readFileSync(first.caCert, 'utf8');
    await ensureLocalPki(dir, 'test');
    expect(readFileSync(first.caCert, 'utf8')).toBe(ca);
    expect(execFileSync('openssl', ['verify', '-CAfile', first.caCert, first.clientCert], { encoding: 'utf8' })).toContain(': OK');
  });
});
