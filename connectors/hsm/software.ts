import { createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assertCertificateMatchesKey, parseCertificate } from './certificate.ts';
import { SignerConfigurationError } from './errors.ts';
import { createSelfSignedCertificate } from './self-signed-certificate.ts';
import type { KeySigner } from './signer.ts';

export interface SoftwareSignerOptions {
  keyFile: string;
  certificateFile: string;
}

export interface SoftwareKeyFiles extends SoftwareSignerOptions {
  /** True when this call generated the key and certificate. */
  created: boolean;
}

const MIN_RSA_BITS = 2048;
const signAsync = promisify(sign);

/** A PEM private key in a file: for local use and development, not for production seals. */
export async function openSoftwareSigner(options: SoftwareSignerOptions): Promise<KeySigner> {
  const privateKey = loadRsaPrivateKey(await readKeyFile(options.keyFile, 'private key'), options.keyFile);
  const certificatePem = await readKeyFile(options.certificateFile, 'certificate');
  const certificate = parseCertificate(certificatePem, options.certificateFile);
  assertCertificateMatchesKey(certificate, createPublicKey(privateKey), options.keyFile);
  let closed = false;
  return {
    transport: 'software',
    certificatePem,
    async signRsaSha256(data) {
      if (closed) throw new SignerConfigurationError('signer_closed', 'The software signer was closed.');
      return signAsync('sha256', data, privateKey);
    },
    health: () => ({ transport: 'software', ready: !closed, keyLocation: options.keyFile }),
    async close() {
      closed = true;
    },
  };
}

/**
 * The embedded default: a key and a self-signed certificate under `<dataDir>/signing/`, created on
 * first start so a fresh checkout signs out of the box. Written into a temporary directory that is
 * renamed into place, so two processes starting together never pair one's key with the other's
 * certificate.
 */
export async function ensureSoftwareKey(dataDir: string, now: Date = new Date()): Promise<SoftwareKeyFiles> {
  const dir = join(dataDir, 'signing');
  const files = { keyFile: join(dir, 'key.pem'), certificateFile: join(dir, 'certificate.pem') };
  if (await exists(files.keyFile)) return { ...files, created: false };

  await mkdir(dataDir, { recursive: true });
  const staging = await mkdtemp(join(dataDir, '.signing-'));
  try {
    const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 3072 });
    const certificatePem = await createSelfSignedCertificate({
      publicKey,
      subject: { commonName: 'ecoc-hub local signing key (not for production)', organization: 'ecoc-hub' },
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 2 * 365 * 86_400_000),
      signRsaSha256: (data) => signAsync('sha256', data, privateKey),
    });
    await writeFile(join(staging, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(join(staging, 'certificate.pem'), certificatePem);
    await rename(staging, dir);
    return { ...files, created: true };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process won the race: its complete pair is in place.
    if (isCode(error, 'ENOTEMPTY') || isCode(error, 'EEXIST')) return { ...files, created: false };
    throw error;
  }
}

function loadRsaPrivateKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new SignerConfigurationError('key_invalid', `${file} does not hold a readable unencrypted PEM private key: ${(error as Error).message}`, { cause: error });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    throw new SignerConfigurationError('key_unsuitable', `${file} holds a ${key.asymmetricKeyType ?? 'unknown'} key of ${bits} bits; the IVI profile needs RSA with at least ${MIN_RSA_BITS} bits.`);
  }
  return key;
}

async function readKeyFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new SignerConfigurationError('file_unreadable', `Cannot read the signing ${what} file ${file}: ${(error as Error).message}`, { cause: error });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
