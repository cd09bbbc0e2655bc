import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSelfSignedCertificate } from '../../connectors/hsm/self-signed-certificate.ts';

const run = promisify(execFile);

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface TokenKey {
  label: string;
  /** CKA_ID, hex. */
  id: string;
  certificatePem: string;
  /** The same certificate as a PEM file (for xmlsec1 and ECOC_SIGNING_CERT_FILE). */
  certificateFile: string;
}

export interface SoftHsmToken {
  dir: string;
  modulePath: string;
  label: string;
  pin: string;
  /** Generates an RSA key pair inside the token and imports a self-signed certificate for it beside the key (same CKA_ID). */
  createKey(options: { label: string; id: string; bits?: 2048 | 3072; importCertificate?: boolean }): Promise<TokenKey>;
  /** Issues another certificate for an existing token key (e.g. an expired one), written to a file only. */
  issueCertificate(options: { id: string; notBefore: Date; notAfter: Date; file: string }): Promise<string>;
  /** Makes the token vanish from the module, like an unplugged HSM, until `restore()`. */
  remove(): void;
  restore(): void;
  destroy(): void;
}

/**
 * A real SoftHSM2 token in a temporary directory owned by one test file. SOFTHSM2_CONF is set for
 * this process before any PKCS#11 module is initialised (the module reads it at C_Initialize).
 */
export async function createSoftHsmToken(options: { label?: string; pin?: string } = {}): Promise<SoftHsmToken> {
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  const parkedDir = join(dir, 'removed');
  mkdirSync(tokenDir);
  mkdirSync(parkedDir);
  const confPath = join(dir, 'softhsm2.conf');
  writeFileSync(confPath, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = confPath;
  const env = { ...process.env, SOFTHSM2_CONF: confPath };
  const label = options.label ?? 'ecoc-test';
  const pin = options.pin ?? '246810';
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '13579111'], { env });

  const tool = (args: string[]) => run('pkcs11-tool', ['--module', SOFTHSM_MODULE, '--token-label', label, '--login', '--pin', pin, ...args], { env });
  const signWithToken = (id: string) => async (data: Buffer) => {
    const input = join(dir, `tbs-${id}.der`);
    const output = join(dir, `sig-${id}.bin`);
    writeFileSync(input, data);
    await tool(['--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', id, '--input-file', input, '--output-file', output]);
    return readFileSync(output);
  };
  const publicKeyOf = async (id: string) => {
    const file = join(dir, `pub-${id}.der`);
    await tool(['--read-object', '--type', 'pubkey', '--id', id, '--output-file', file]);
    return createPublicKey({ key: readFileSync(file), format: 'der', type: 'spki' });
  };
  const issueCertificate: SoftHsmToken['issueCertificate'] = async ({ id, notBefore, notAfter, file }) => {
    const pem = await createSelfSignedCertificate({
      publicKey: await publicKeyOf(id),
      subject: { commonName: `ecoc-hub test seal ${id}`, organization: 'ecoc-hub tests', country: 'BE' },
      notBefore,
      notAfter,
      signRsaSha256: signWithToken(id),
    });
    writeFileSync(file, pem);
    return pem;
  };

  return {
    dir,
    modulePath: SOFTHSM_MODULE,
    label,
    pin,
    async createKey({ label: keyLabel, id, bits = 2048, importCertificate = true }) {
      await tool(['--keypairgen', '--key-type', `rsa:${bits}`, '--label', keyLabel, '--id', id]);
      const certificateFile = join(dir, `cert-${id}.pem`);
      const now = Date.now();
      const certificatePem = await issueCertificate({ id, notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000), file: certificateFile });
      if (importCertificate) {
        const der = join(dir, `cert-${id}.der`);
        writeFileSync(der, certificatePemToDer(certificatePem));
        await tool(['--write-object', der, '--type', 'cert', '--id', id, '--label', keyLabel]);
      }
      return { label: keyLabel, id, certificatePem, certificateFile };
    },
    issueCertificate,
    remove() {
      for (const entry of readdirSync(tokenDir)) renameSync(join(tokenDir, entry), join(parkedDir, entry));
    },
    restore() {
      for (const entry of readdirSync(parkedDir)) renameSync(join(parkedDir, entry), join(tokenDir, entry));
    },
    destroy() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function certificatePemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
}
