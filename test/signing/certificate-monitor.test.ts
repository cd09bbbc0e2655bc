import { generateKeyPairSync, sign } from 'node:crypto';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../connectors/hsm/self-signed-certificate.ts';
import { assertSigningCertificateUsable, signingCertificateStatus, SigningCertificateMonitor } from '../../signing/certificate-monitor.ts';

const DAY = 86_400_000;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2026-12-31T00:00:00Z');
const certificatePem = await createSelfSignedCertificate({
  publicKey,
  subject: { commonName: 'Monitor Test Seal' },
  notBefore,
  notAfter,
  signRsaSha256: async (data) => sign('sha256', data, privateKey),
});

describe('signing certificate monitoring', () => {
  it('reports validity, days to expiry and the warning threshold', () => {
    expect(signingCertificateStatus(certificatePem, { warnDays: 30, now: new Date(notAfter.getTime() - 100 * DAY) })).toMatchObject({
      state: 'valid',
      daysToExpiry: 100,
      subject: 'CN=Monitor Test Seal',
      notAfter: '2026-12-31T00:00:00.000Z',
    });
    const expiring = signingCertificateStatus(certificatePem, { warnDays: 30, now: new Date(notAfter.getTime() - 10.5 * DAY) });
    expect(expiring).toMatchObject({ state: 'expiring', daysToExpiry: 10 });
    expect(expiring.message).toContain('within the 30-day warning threshold');
    expect(signingCertificateStatus(certificatePem, { warnDays: 30, now: new Date(notAfter.getTime() + 2 * DAY) })).toMatchObject({ state: 'expired', daysToExpiry: -2 });
    expect(signingCertificateStatus(certificatePem, { warnDays: 30, now: new Date(notBefore.getTime() - DAY) })).toMatchObject({ state: 'not_yet_valid' });
  });

  it('blocks signing outside the validity period with a non-retryable error', () => {
    expect(() => assertSigningCertificateUsable(certificatePem, new Date(notAfter.getTime() - DAY))).not.toThrow();
    expect(() => assertSigningCertificateUsable(certificatePem, new Date(notAfter.getTime() + 1000))).toThrow(/expired on 2026-12-31T00:00:00.000Z: signing is blocked/);
    let error: unknown;
    try {
      assertSigningCertificateUsable(certificatePem, new Date(notBefore.getTime() - 1000));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'certificate_not_yet_valid', retryable: false });
  });

  it('exposes ecoc_signing_certificate_expiry_days at scrape time and a readiness probe', async () => {
    const registry = new Registry();
    let now = new Date(notAfter.getTime() - 45 * DAY);
    const monitor = new SigningCertificateMonitor({ certificatePem, warnDays: 30, registry, now: () => now });

    expect(await registry.metrics()).toMatch(/^ecoc_signing_certificate_expiry_days 45$/m);
    expect(await monitor.readinessProbe()()).toEqual({ ok: true, detail: expect.stringContaining('valid until 2026-12-31') });

    now = new Date(notAfter.getTime() - 5 * DAY);
    expect(await registry.metrics()).toMatch(/^ecoc_signing_certificate_expiry_days 5$/m);
    expect(await monitor.readinessProbe()()).toEqual({ ok: true, detail: expect.stringContaining('expires in 5 days') });

    now = new Date(notAfter.getTime() + 3 * DAY);
    expect(await registry.metrics()).toMatch(/^ecoc_signing_certificate_expiry_days -3$/m);
    expect(await monitor.readinessProbe()()).toEqual({ ok: false, detail: expect.stringContaining('signing is blocked') });
  });
});
