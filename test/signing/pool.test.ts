import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySigner, type KeySigner } from '../../connectors/hsm/index.ts';
import { validateIviXml } from '../../ivi/xsd.ts';
import { signingConfigSchema } from '../../schemas/config/signing.ts';
import { IviSignatureError } from '../../signing/errors.ts';
import { createSigningPool, type SigningPool } from '../../signing/pool.ts';
import { signAndCheck } from '../../signing/sign-and-check.ts';
import { signIvi } from '../../signing/sign-ivi.ts';
import { verifyIvi } from '../../signing/verify-ivi.ts';
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm.ts';
import { xmlsecVerify } from '../support/xmlsec1.ts';
import { SPECIMENS, unsignedSpecimen } from './specimens.ts';

let token: SoftHsmToken;
let dataDir: string;
let pool: SigningPool;
const signers: Record<'software' | 'pkcs11', KeySigner> = {} as never;

beforeAll(async () => {
  token = await createSoftHsmToken();
  await token.createKey({ label: 'pool-seal', id: '0b', bits: 2048 });
  dataDir = mkdtempSync(join(tmpdir(), 'ecoc-signing-pool-'));
  signers.software = await createKeySigner({ ...signingConfigSchema.parse({}), ECOC_DATA_DIR: dataDir });
  signers.pkcs11 = await createKeySigner({
    ...signingConfigSchema.parse({ ECOC_SIGNER: 'pkcs11', ECOC_PKCS11_MODULE: token.modulePath, ECOC_PKCS11_TOKEN_LABEL: token.label, ECOC_PKCS11_PIN: token.pin, ECOC_PKCS11_KEY_LABEL: 'pool-seal' }),
    ECOC_DATA_DIR: dataDir,
  });
  pool = createSigningPool({ threads: 2 });
});

afterAll(async () => {
  await pool?.close();
  await Promise.all(Object.values(signers).map((signer) => signer.close()));
  token?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.each(['software', 'pkcs11'] as const)('the signing pool with the %s transport', (transport) => {
  it('signs every specimen, concurrently, into documents xmlsec1 and the XSD accept', async () => {
    const signer = signers[transport];
    const signed = await Promise.all([...SPECIMENS, ...SPECIMENS].map((name, index) => signAndCheck(unsignedSpecimen(name), signer, { work: pool, xades: index % 2 === 1 })));

    for (const [index, document] of signed.entries()) {
      expect(verifyIvi(document.signedXml, signer.certificatePem)).toEqual({ valid: true, problems: [], xades: index % 2 === 1 });
      expect(validateIviXml(document.signedXml)).toEqual({ valid: true, errors: [] });
    }
    expect((await xmlsecVerify(signed[1]!.signedXml, signer.certificatePem)).ok).toBe(true);
  });
});

describe('refusals from a pool thread', () => {
  it('are the same typed errors, codes and problem lines as on the calling thread', async () => {
    const signer = signers.software;
    const alreadySigned = (await signIvi(unsignedSpecimen('L1e_moped.xml'), signer)).signedXml;
    const xsdInvalid = unsignedSpecimen('M1-01_electric.xml').replace(/<IviVersionNumberXsd>2\.0<\/IviVersionNumberXsd>/, '');
    for (const input of ['<InitialVehicleInformation>', alreadySigned, xsdInvalid]) {
      const inline = await signAndCheck(input, signer).catch((caught: unknown) => caught);
      const pooled = await signAndCheck(input, signer, { work: pool }).catch((caught: unknown) => caught);
      expect(pooled).toBeInstanceOf(IviSignatureError);
      expect(pooled).toMatchObject({ code: (inline as IviSignatureError).code, problems: (inline as IviSignatureError).problems, message: (inline as IviSignatureError).message, retryable: false });
    }
  });
});
