import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKeySigner, SignerConfigurationError } from '../../connectors/hsm/index.ts';
import { createSelfSignedCertificate } from '../../connectors/hsm/self-signed-certificate.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../../connectors/hsm/software.ts';
import { loadConfig } from '../../platform/config.ts';
import { signingConfigSchema } from '../../schemas/config/signing.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-software-key-'));
  dirs.push(dir);
  return dir;
};

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the embedded software key', () => {
  it('is generated once (RSA-3072, self-signed, key file private) and reused on the next start', async () => {
    const dataDir = tempDir();
    const first = await ensureSoftwareKey(dataDir);
    expect(first).toMatchObject({ created: true, keyFile: join(dataDir, 'signing', 'key.pem'), certificateFile: join(dataDir, 'signing', 'certificate.pem') });
    expect(statSync(first.keyFile).mode & 0o077).toBe(0);
    const certificate = new X509Certificate(readFileSync(first.certificateFile));
    expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.ca).toBe(false);

    const again = await ensureSoftwareKey(dataDir);
    expect(again.created).toBe(false);
    expect(readFileSync(again.certificateFile, 'utf8')).toBe(certificate.toString());
  });

  it('two processes starting together end up with one matching pair', async () => {
    const dataDir = tempDir();
    const results = await Promise.all([ensureSoftwareKey(dataDir), ensureSoftwareKey(dataDir), ensureSoftwareKey(dataDir)]);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    const signer = await openSoftwareSigner(results[0]!);
    expect(signer.certificatePem).toBe(readFileSync(results[0]!.certificateFile, 'utf8'));
  });

  it('createKeySigner signs out of the box with the default configuration', async () => {
    const dataDir = tempDir();
    const config = loadConfig({ ECOC_DATA_DIR: dataDir });
    expect(config.ECOC_SIGNER).toBe('software');
    const signer = await createKeySigner(config);
    const data = Buffer.from('hello');
    const { verify } = await import('node:crypto');
    expect(verify('sha256', data, new X509Certificate(signer.certificatePem).publicKey, await signer.signRsaSha256(data))).toBe(true);
    expect(signer.health()).toEqual({ transport: 'software', ready: true, keyLocation: join(dataDir, 'signing', 'key.pem') });
    await signer.close();
    await expect(signer.signRsaSha256(data)).rejects.toMatchObject({ code: 'signer_closed' });
  });

  it('refuses a key file whose certificate belongs to another key, and half a configuration', async () => {
    const dir = tempDir();
    const own = await ensureSoftwareKey(join(dir, 'a'));
    const foreign = await ensureSoftwareKey(join(dir, 'b'));
    const error = await openSoftwareSigner({ keyFile: own.keyFile, certificateFile: foreign.certificateFile }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignerConfigurationError);
    expect(error).toMatchObject({ code: 'certificate_key_mismatch', retryable: false });
    expect((error as Error).message).toContain(own.keyFile);

    const config = { ...signingConfigSchema.parse({ ECOC_SIGNING_KEY_FILE: own.keyFile }), ECOC_DATA_DIR: dir };
    await expect(createKeySigner(config)).rejects.toThrow('Set both ECOC_SIGNING_KEY_FILE and ECOC_SIGNING_CERT_FILE');
  });

  it('refuses an RSA key below 2048 bits and a missing file, naming the file', async () => {
    const dir = tempDir();
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const keyFile = join(dir, 'small.pem');
    writeFileSync(keyFile, small.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await expect(openSoftwareSigner({ keyFile, certificateFile: join(dir, 'none.pem') })).rejects.toThrow(`${keyFile} holds a rsa key of 1024 bits`);
    await expect(openSoftwareSigner({ keyFile: join(dir, 'absent.pem'), certificateFile: keyFile })).rejects.toThrow(`Cannot read the signing private key file ${join(dir, 'absent.pem')}`);
  });

  it('pkcs11 without a PIN is a configuration error naming the variable', async () => {
    const config = { ...signingConfigSchema.parse({ ECOC_SIGNER: 'pkcs11', ECOC_PKCS11_TOKEN_LABEL: 't', ECOC_PKCS11_KEY_LABEL: 'k' }), ECOC_DATA_DIR: tempDir() };
    await expect(createKeySigner(config)).rejects.toThrow('ECOC_SIGNER=pkcs11 needs ECOC_PKCS11_PIN');
  });
});

describe('the pure-Node self-signed certificate', () => {
  it('is a v3 signing certificate that OpenSSL parses and verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { sign } = await import('node:crypto');
    const pem = await createSelfSignedCertificate({
      publicKey,
      subject: { commonName: 'Seal Ünïcode Test', organization: 'ACME Vehicles NV', country: 'BE' },
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2051-01-01T00:00:00Z'), // after 2049: GeneralizedTime
      signRsaSha256: async (data) => sign('sha256', data, privateKey),
    });
    const file = join(tempDir(), 'cert.pem');
    writeFileSync(file, pem);
    const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-text', '-nameopt', 'utf8'], { encoding: 'utf8' });
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).toContain('Subject: C=BE, O=ACME Vehicles NV, CN=Seal Ünïcode Test');
    expect(text).toContain('Not After : Jan  1 00:00:00 2051 GMT');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    const verified = execFileSync('openssl', ['verify', '-CAfile', file, '-partial_chain', '-attime', String(Date.parse('2030-01-01') / 1000), file], { encoding: 'utf8' });
    expect(verified.trim()).toBe(`${file}: OK`);
  });
});
