import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { access, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { issueCertificate, type CertificateProfile, type CertificateSubject } from '../connectors/hsm/self-signed-certificate.ts';

/** PEM files of a local CA, a TLS server certificate it issued and a client certificate for mutual TLS. */
export interface LocalPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

const generateRsa = promisify(generateKeyPair);
const signAsync = promisify(sign);

const FILES = { caCert: 'ca.crt', serverCert: 'server.crt', serverKey: 'server.key', clientCert: 'client.crt', clientKey: 'client.key' } as const;

/**
 * A private CA with one server certificate (for `localhost` and 127.0.0.1) and one client
 * certificate, created once under `dir` and reused (like the local signing key). Written into a
 * temporary folder renamed into place, so a half-written set is never used. The CA's own key is
 * not kept: nothing else is ever issued from it.
 */
export async function ensureLocalPki(dir: string, purpose: string, now: Date = new Date()): Promise<LocalPki> {
  const files = Object.fromEntries(Object.entries(FILES).map(([key, name]) => [key, join(dir, name)])) as unknown as LocalPki;
  if (await exists(files.clientKey)) return files;

  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, '.pki-'));
  try {
    const validity = { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000) };
    const ca = await generateRsa('rsa', { modulusLength: 2048 });
    const caSubject: CertificateSubject = { commonName: `ecoc-hub local CA (${purpose})`, organization: 'ecoc-hub' };
    const issue = async (subject: CertificateSubject, profile: CertificateProfile, publicKey: KeyObject, issuer?: { subject: CertificateSubject; publicKey: KeyObject }) =>
      issueCertificate({ publicKey, subject, profile, ...validity, issuer, signRsaSha256: (data) => signAsync('sha256', data, ca.privateKey) });
    const server = await generateRsa('rsa', { modulusLength: 2048 });
    const client = await generateRsa('rsa', { modulusLength: 2048 });
    const caIssuer = { subject: caSubject, publicKey: ca.publicKey };
    const write = (name: string, content: string, mode = 0o644) => writeFile(join(staging, name), content, { mode });
    const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;
    await write(FILES.caCert, await issue(caSubject, { kind: 'ca' }, ca.publicKey));
    await write(FILES.serverCert, await issue({ commonName: `${purpose} (server)` }, { kind: 'tls-server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, server.publicKey, caIssuer));
    await write(FILES.serverKey, pem(server.privateKey), 0o600);
    await write(FILES.clientCert, await issue({ commonName: `${purpose} (client)` }, { kind: 'tls-client' }, client.publicKey, caIssuer));
    await write(FILES.clientKey, pem(client.privateKey), 0o600);
    await rename(staging, dir);
    return files;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process won the race: its complete set is in place.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return files;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
