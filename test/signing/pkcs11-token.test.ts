import { verify, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignerConfigurationError, SignerUnavailableError } from '../../connectors/hsm/errors.ts';
import { openPkcs11Signer, type Pkcs11SignerOptions } from '../../connectors/hsm/pkcs11.ts';
import type { KeySigner } from '../../connectors/hsm/signer.ts';
import { waitFor } from '../../platform/wait.ts';
import { IviSignatureError } from '../../signing/errors.ts';
import { signAndCheck } from '../../signing/sign-and-check.ts';
import { verifyIvi } from '../../signing/verify-ivi.ts';
import { createSoftHsmToken, type SoftHsmToken, type TokenKey } from '../support/softhsm.ts';
import { unsignedSpecimen } from './specimens.ts';

let token: SoftHsmToken;
let seal: TokenKey;
let other: TokenKey;
const opened: KeySigner[] = [];

function options(overrides: Partial<Pkcs11SignerOptions> = {}): Pkcs11SignerOptions {
  return { modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, keyLabel: seal.label, sessions: 4, retryTimeoutMs: 30_000, ...overrides };
}

async function open(overrides: Partial<Pkcs11SignerOptions> = {}): Promise<KeySigner> {
  const signer = await openPkcs11Signer(options(overrides));
  opened.push(signer);
  return signer;
}

function verifiesWith(certificatePem: string, data: Buffer, signature: Buffer): boolean {
  return verify('sha256', data, new X509Certificate(certificatePem).publicKey, signature);
}

beforeAll(async () => {
  token = await createSoftHsmToken();
  seal = await token.createKey({ label: 'seal', id: '01' });
  other = await token.createKey({ label: 'other', id: '02', importCertificate: false });
});

// Login state is shared by all sessions of a process, so each test starts logged out.
afterEach(async () => {
  await Promise.all(opened.splice(0).map((signer) => signer.close()));
});

afterAll(() => token?.destroy());

describe('PKCS#11 signer on a real SoftHSM2 token', () => {
  it('finds the key by label or by CKA_ID and takes the certificate from the token', async () => {
    const byLabel = await open();
    const byId = await open({ keyLabel: undefined, keyId: '01' });
    expect(byLabel.certificatePem).toBe(new X509Certificate(seal.certificatePem).toString());
    expect(byId.certificatePem).toBe(byLabel.certificatePem);
    const data = Buffer.from('signed info');
    expect(verifiesWith(seal.certificatePem, data, await byId.signRsaSha256(data))).toBe(true);
  });

  it('a wrong PIN fails at once with a non-retryable error that names the variable', async () => {
    const error = await open({ pin: '000000' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignerConfigurationError);
    expect(error).toMatchObject({ retryable: false, code: 'pin_incorrect' });
    expect((error as Error).message).toContain('CKR_PIN_INCORRECT');
    expect((error as Error).message).toContain('ECOC_PKCS11_PIN');
    expect((error as Error).message).toContain(`token "${token.label}"`);
  });

  it('a missing key fails with a non-retryable error that lists the keys present', async () => {
    const error = await open({ keyLabel: 'no-such-key' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignerConfigurationError);
    expect(error).toMatchObject({ retryable: false, code: 'key_not_found' });
    expect((error as Error).message).toMatch(/^No private key matches .*key label "no-such-key".*; private keys on the token: /);
    expect((error as Error).message).toContain('label "seal" id 01');
    expect((error as Error).message).toContain('label "other" id 02');
  });

  it('a key without a certificate on the token, or with a certificate of another key, is refused', async () => {
    await expect(open({ keyLabel: 'other' })).rejects.toMatchObject({ retryable: false, code: 'certificate_not_found' });
    await expect(open({ keyLabel: 'other', certificateFile: seal.certificateFile })).rejects.toMatchObject({ retryable: false, code: 'certificate_key_mismatch' });
    const withFile = await open({ keyLabel: 'other', certificateFile: other.certificateFile });
    expect(withFile.certificatePem).toBe(new X509Certificate(other.certificatePem).toString());
  });

  it('an unknown token label is reported with the tokens present', async () => {
    const error = await open({ tokenLabel: 'elsewhere' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignerUnavailableError);
    expect(error).toMatchObject({ retryable: true, code: 'token_not_found' });
    expect((error as Error).message).toContain('shows no token labelled "elsewhere"');
    expect((error as Error).message).toContain(`"${token.label}"`);
  });

  it('signs concurrently over 4 sessions and every signature verifies', async () => {
    const signer = await open({ sessions: 4 });
    const inputs = Array.from({ length: 64 }, (_, index) => Buffer.from(`document ${index}`));
    const signatures = await Promise.all(inputs.map((data) => signer.signRsaSha256(data)));
    expect(signatures.every((signature, index) => verifiesWith(seal.certificatePem, inputs[index]!, signature))).toBe(true);
    expect(signer.health().sessions).toEqual({ open: 4, max: 4 });

    const documents = await Promise.all(
      ['M1-01_electric.xml', 'M1-05_hybrid_petrol.xml', 'N2-01_electric.xml', 'L1e_moped.xml'].map((name) => signAndCheck(unsignedSpecimen(name), signer)),
    );
    expect(documents.map((document) => verifyIvi(document.signedXml, signer.certificatePem).valid)).toEqual([true, true, true, true]);
  });

  it('a token that disappears mid-run is retried and signing recovers when it returns', async () => {
    const signer = await open({ sessions: 2 });
    const data = Buffer.from('before, during and after');
    expect(verifiesWith(seal.certificatePem, data, await signer.signRsaSha256(data))).toBe(true);

    token.remove();
    try {
      const pending = signer.signRsaSha256(data);
      await waitFor(async () => !signer.health().ready, { timeoutMs: 20_000, what: 'the signer noticing the token is gone', intervalMs: 20 });
      expect(signer.health().lastError).toMatch(/PKCS#11|token/);
      token.restore();
      expect(verifiesWith(seal.certificatePem, data, await pending)).toBe(true);
    } finally {
      token.restore();
    }
    expect(signer.health()).toMatchObject({ ready: true, transport: 'pkcs11' });
    expect(signer.health().lastError).toBeUndefined();
  });

  it('gives up with a retryable error when the token stays away, then works again once it is back', async () => {
    const signer = await open({ retryTimeoutMs: 300 });
    const data = Buffer.from('retry budget');
    token.remove();
    try {
      const error = await signer.signRsaSha256(data).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SignerUnavailableError);
      expect(error).toMatchObject({ retryable: true, code: 'token_unavailable' });
      expect((error as Error).message).toMatch(/did not answer for 300 ms \(\d+ attempts\)/);
    } finally {
      token.restore();
    }
    expect(verifiesWith(seal.certificatePem, data, await signer.signRsaSha256(data))).toBe(true);
  });

  it('an expired certificate blocks signing before the token is asked', async () => {
    const expiredFile = join(token.dir, 'expired.pem');
    await token.issueCertificate({ id: '01', notBefore: new Date(Date.now() - 400 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000), file: expiredFile });
    const signer = await open({ certificateFile: expiredFile });
    let tokenCalls = 0;
    const counting: KeySigner = {
      transport: signer.transport,
      certificatePem: signer.certificatePem,
      signRsaSha256: (data) => {
        tokenCalls += 1;
        return signer.signRsaSha256(data);
      },
      health: () => signer.health(),
      close: () => signer.close(),
    };
    const error = await signAndCheck(unsignedSpecimen('M1-01_electric.xml'), counting).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IviSignatureError);
    expect(error).toMatchObject({ retryable: false, code: 'certificate_expired' });
    expect((error as Error).message).toMatch(/expired on \d{4}-\d\d-\d\dT.*signing is blocked/);
    expect(tokenCalls).toBe(0);
  });
});
