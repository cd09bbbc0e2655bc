import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface XmlsecResult {
  ok: boolean;
  output: string;
}

/**
 * Verifies with Debian's xmlsec1, an independent XMLDSig implementation, using only the public key
 * of the given certificate (`--enabled-key-data rsa` keeps it from trusting the embedded X509Data).
 * XAdES SignedProperties are referenced by Id, which xmlsec1 must be told about.
 */
export function xmlsecVerify(xml: string, certificatePem: string): Promise<XmlsecResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-xmlsec-'));
  const documentFile = join(dir, 'signed.xml');
  const keyFile = join(dir, 'public.pem');
  writeFileSync(documentFile, xml, 'utf8');
  writeFileSync(keyFile, new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'pem' }));
  const args = ['--verify', '--pubkey-pem', keyFile, '--enabled-key-data', 'rsa', '--id-attr:Id', 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties', documentFile];
  return new Promise((resolve) => {
    execFile('xmlsec1', args, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ ok: error === null, output: `${stdout}${stderr}` });
    });
  });
}
