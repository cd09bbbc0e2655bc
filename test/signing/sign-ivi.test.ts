import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySigner, type KeySigner } from '../../connectors/hsm/index.ts';
import { signingConfigSchema } from '../../schemas/config/signing.ts';
import { readIvi } from '../../ivi/reader.ts';
import { writeIvi } from '../../ivi/writer.ts';
import { validateIviXml } from '../../ivi/xsd.ts';
import { IviSignatureError } from '../../signing/errors.ts';
import { signAndCheck } from '../../signing/sign-and-check.ts';
import { signIvi } from '../../signing/sign-ivi.ts';
import { verifyIvi } from '../../signing/verify-ivi.ts';
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm.ts';
import { xmlCryptoVerify } from '../support/xml-crypto.ts';
import { xmlsecVerify } from '../support/xmlsec1.ts';
import { SPECIMENS, unsignedSpecimen } from './specimens.ts';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
let token: SoftHsmToken;
let dataDir: string;
const signers: Record<'software' | 'pkcs11', KeySigner> = {} as never;

beforeAll(async () => {
  token = await createSoftHsmToken();
  await token.createKey({ label: 'ivi-seal', id: '0a', bits: 3072 });
  dataDir = mkdtempSync(join(tmpdir(), 'ecoc-signing-data-'));
  signers.software = await createKeySigner({ ...signingConfigSchema.parse({}), ECOC_DATA_DIR: dataDir });
  signers.pkcs11 = await createKeySigner({
    ...signingConfigSchema.parse({
      ECOC_SIGNER: 'pkcs11',
      ECOC_PKCS11_MODULE: token.modulePath,
      ECOC_PKCS11_TOKEN_LABEL: token.label,
      ECOC_PKCS11_PIN: token.pin,
      ECOC_PKCS11_KEY_LABEL: 'ivi-seal',
    }),
    ECOC_DATA_DIR: dataDir,
  });
});

afterAll(async () => {
  await Promise.all(Object.values(signers).map((signer) => signer.close()));
  token?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.each(['software', 'pkcs11'] as const)('IVI signing through the %s transport', (transport) => {
  it.each(SPECIMENS)('signs %s so that xml-crypto, xmlsec1 and the XSD accept it', async (specimen) => {
    const signer = signers[transport];
    const signed = await signAndCheck(unsignedSpecimen(specimen), signer);

    expect(verifyIvi(signed.signedXml, signer.certificatePem)).toEqual({ valid: true, problems: [], xades: false });
    expect(xmlCryptoVerify(signed.signedXml, signer.certificatePem)).toEqual({ ok: true, errors: [] });
    const xmlsec = await xmlsecVerify(signed.signedXml, signer.certificatePem);
    expect(xmlsec.output).toContain('OK');
    expect(xmlsec.ok).toBe(true);
    expect(validateIviXml(signed.signedXml)).toEqual({ valid: true, errors: [] });
    expect(signed.signedXml.trimEnd().endsWith('</Signature></InitialVehicleInformation>')).toBe(true);
    expect(signed.signedXml).toContain('<Reference URI="">');
    expect(signed.signedXml).toContain(`<SignatureValue>${signed.signatureValue}</SignatureValue>`);
  });

  it('signs what the IVI writer generates (the pipeline path) and records hashes of the exact bytes', async () => {
    const signer = signers[transport];
    const generated = writeIvi(readIvi(unsignedSpecimen('M1-01_electric.xml')));
    const signed = await signAndCheck(generated, signer);

    expect((await xmlsecVerify(signed.signedXml, signer.certificatePem)).ok).toBe(true);
    const { createHash, X509Certificate } = await import('node:crypto');
    expect(signed.documentHash).toBe(createHash('sha256').update(Buffer.from(signed.signedXml, 'utf8')).digest('hex'));
    expect(signed.certificateFingerprint).toBe(new X509Certificate(signer.certificatePem).fingerprint256.replace(/:/g, '').toLowerCase());
    expect(Buffer.from(signed.signatureValue, 'base64').length).toBe(384); // both keys are RSA-3072
  });

  it('a tampered document fails both xml-crypto and xmlsec1', async () => {
    const signer = signers[transport];
    const signed = await signIvi(unsignedSpecimen('N2-01_electric.xml'), signer);
    const tampered = signed.signedXml.replace('<MaximumSpeed>', '<MaximumSpeed>1');
    expect(tampered).not.toBe(signed.signedXml);

    const verification = verifyIvi(tampered, signer.certificatePem);
    expect(verification.valid).toBe(false);
    expect(verification.problems.join('\n')).toMatch(/the document digest does not match: calculated .* the signature supplies/);
    const independent = xmlCryptoVerify(tampered, signer.certificatePem);
    expect(independent.ok).toBe(false);
    expect(independent.errors.join('\n')).toMatch(/calculated digest is .* but the xml to validate supplies digest/);
    const xmlsec = await xmlsecVerify(tampered, signer.certificatePem);
    expect(xmlsec.ok).toBe(false);
    expect(xmlsec.output).toContain('FAIL');
  });

  it('XAdES-B-B: SigningTime and SigningCertificateV2 are signed, and xmlsec1 verifies both references', async () => {
    const signer = signers[transport];
    const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    const stamp = `${signingTime.toISOString().slice(0, 19)}Z`;
    const signed = await signAndCheck(unsignedSpecimen('M1-05_hybrid_petrol.xml'), signer, { xades: true, signingTime });

    expect(verifyIvi(signed.signedXml, signer.certificatePem)).toEqual({ valid: true, problems: [], xades: true });
    expect(xmlCryptoVerify(signed.signedXml, signer.certificatePem)).toEqual({ ok: true, errors: [] });
    expect(signed.signedXml).toContain(`<xades:SigningTime>${stamp}</xades:SigningTime>`);
    expect(signed.signedXml).toContain('Type="http://uri.etsi.org/01903#SignedProperties"');
    const xmlsec = await xmlsecVerify(signed.signedXml, signer.certificatePem);
    expect(xmlsec.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(xmlsec.ok).toBe(true);

    const backdated = signed.signedXml.replace(stamp, '2025-03-01T10:00:00Z');
    expect(backdated).not.toBe(signed.signedXml);
    expect(verifyIvi(backdated, signer.certificatePem).valid).toBe(false);
    expect((await xmlsecVerify(backdated, signer.certificatePem)).ok).toBe(false);
  });
});

describe('verification is against the configured certificate', () => {
  it('rejects a document signed by another key even though its embedded certificate matches that key', async () => {
    const signed = await signIvi(unsignedSpecimen('M1-01_electric.xml'), signers.software);
    const verification = verifyIvi(signed.signedXml, signers.pkcs11.certificatePem);
    expect(verification.valid).toBe(false);
    expect(verification.problems).toContain('the certificate in KeyInfo is not the configured signing certificate');
    expect((await xmlsecVerify(signed.signedXml, signers.pkcs11.certificatePem)).ok).toBe(false);
  });

  it('rejects a signature that verifies cryptographically but breaks the IVI profile', async () => {
    const signed = await signIvi(unsignedSpecimen('M1-01_electric.xml'), signers.pkcs11);
    const signature = /<Signature xmlns="[^"]+">[\s\S]*<\/Signature>/.exec(signed.signedXml)![0];
    // The enveloped transform removes the signature wherever it sits, so the digest still matches.
    const first = signed.signedXml.replace(signature, '').replace(/(<InitialVehicleInformation[^>]*>)/, `$1${signature}`);
    expect((await xmlsecVerify(first, signers.pkcs11.certificatePem)).ok).toBe(true);
    expect(verifyIvi(first, signers.pkcs11.certificatePem)).toEqual({ valid: false, problems: ['ds:Signature is not the last child element of the root'], xades: false });

    const twice = signed.signedXml.replace(signature, `${signature}${signature}`);
    expect(verifyIvi(twice, signers.pkcs11.certificatePem).problems).toEqual(['expected exactly one ds:Signature, found 2']);
    await expect(signIvi(signed.signedXml, signers.pkcs11)).rejects.toMatchObject({ code: 'already_signed', retryable: false });
  });
});

describe('signAndCheck', () => {
  it('refuses a document the XSD rejects after signing, listing the XSD errors with lines', async () => {
    const invalid = unsignedSpecimen('M1-01_electric.xml').replace(/<IviVersionNumberXsd>2\.0<\/IviVersionNumberXsd>/, '');
    const error = await signAndCheck(invalid, signers.pkcs11).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IviSignatureError);
    expect(error).toMatchObject({ code: 'xsd_invalid', retryable: false });
    expect((error as IviSignatureError).problems.join('\n')).toMatch(/^line \d+: .*IviVersionNumber/m);
  });

  it('refuses input that is not well-formed before anything is signed', async () => {
    await expect(signAndCheck('<InitialVehicleInformation>', signers.software)).rejects.toMatchObject({ code: 'not_well_formed' });
  });

  it('puts the signature in the XMLDSig namespace as the root’s last element', async () => {
    const signed = await signIvi(unsignedSpecimen('L1e_moped.xml'), signers.pkcs11);
    const { DOMParser } = await import('@xmldom/xmldom');
    const root = new DOMParser().parseFromString(signed.signedXml, 'application/xml').documentElement!;
    const elements = Array.from(root.childNodes).filter((node) => node.nodeType === 1) as Element[];
    expect(elements.map((element) => `${element.namespaceURI}|${element.localName}`)).toEqual([
      'http://eu.ereg.initialvehicleinformation.v2|Header',
      'http://eu.ereg.initialvehicleinformation.v2|CocDataGroup',
      `${DSIG}|Signature`,
    ]);
  });
});
