import { Gauge, register as defaultRegistry, type Registry } from 'prom-client';
import { certificateFingerprint, parseCertificate } from '../connectors/hsm/certificate.ts';
import type { Logger } from '../platform/logger.ts';
import { IviSignatureError } from './errors.ts';

/**
 * The signing certificate (the X.509 certificate of the sealing key) — not an EU Certificate of
 * Conformity, whose states are schemas/certificate.ts. Names here say "signing certificate".
 */
export const signingCertificateValidities = ['valid', 'expiring', 'expired', 'not_yet_valid'] as const;
export type SigningCertificateValidity = (typeof signingCertificateValidities)[number];

export interface SigningCertificateStatus {
  state: SigningCertificateValidity;
  subject: string;
  issuer: string;
  serialNumber: string;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired). */
  daysToExpiry: number;
  /** One sentence for /readyz and logs. */
  message: string;
}

const DAY_MS = 86_400_000;

export function signingCertificateStatus(certificatePem: string, options: { warnDays: number; now?: Date }): SigningCertificateStatus {
  const certificate = parseCertificate(certificatePem, 'the signing certificate');
  const now = options.now ?? new Date();
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  const daysToExpiry = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  const state: SigningCertificateValidity =
    now < notBefore ? 'not_yet_valid' : now > notAfter ? 'expired' : daysToExpiry < options.warnDays ? 'expiring' : 'valid';
  const subject = certificate.subject.replace(/\n/g, ', ');
  const message = {
    valid: `valid until ${notAfter.toISOString()} (${daysToExpiry} days)`,
    expiring: `expires in ${daysToExpiry} days (${notAfter.toISOString()}), within the ${options.warnDays}-day warning threshold: renew it`,
    expired: `expired on ${notAfter.toISOString()}: signing is blocked until a valid certificate is configured`,
    not_yet_valid: `not valid before ${notBefore.toISOString()}: signing is blocked until then`,
  }[state];
  return {
    state,
    subject,
    issuer: certificate.issuer.replace(/\n/g, ', '),
    serialNumber: certificate.serialNumber,
    fingerprint: certificateFingerprint(certificate),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysToExpiry,
    message: `Signing certificate "${subject}" ${message}`,
  };
}

/** Signing with a certificate outside its validity would produce seals nobody accepts: refuse, permanently. */
export function assertSigningCertificateUsable(certificatePem: string, now: Date = new Date()): void {
  const status = signingCertificateStatus(certificatePem, { warnDays: 0, now });
  if (status.state === 'expired' || status.state === 'not_yet_valid') {
    throw new IviSignatureError(status.state === 'expired' ? 'certificate_expired' : 'certificate_not_yet_valid', status.message);
  }
}

export interface SigningCertificateMonitorOptions {
  certificatePem: string;
  warnDays: number;
  registry?: Registry;
  logger?: Logger;
  now?: () => Date;
}

/**
 * Watches the configured signing certificate: the gauges `ecoc_signing_certificate_expiry_days`
 * and `ecoc_signing_certificate_state{state}` (1 for the current state; computed at scrape time)
 * and a readiness probe that fails once the certificate cannot sign.
 */
export class SigningCertificateMonitor {
  private readonly now: () => Date;

  constructor(private readonly options: SigningCertificateMonitorOptions) {
    this.now = options.now ?? (() => new Date());
    const daysToExpiry = () => this.status().daysToExpiry;
    new Gauge({
      name: 'ecoc_signing_certificate_expiry_days',
      help: 'Days until the signing certificate expires (negative once expired)',
      registers: [options.registry ?? defaultRegistry],
      collect() {
        this.set(daysToExpiry());
      },
    });
    const state = () => this.status().state;
    new Gauge({
      name: 'ecoc_signing_certificate_state',
      help: 'The signing certificate\'s state: 1 for the current one of valid, expiring, expired, not_yet_valid',
      labelNames: ['state'] as const,
      registers: [options.registry ?? defaultRegistry],
      collect() {
        const current = state();
        for (const each of signingCertificateValidities) this.set({ state: each }, each === current ? 1 : 0);
      },
    });
    const status = this.status();
    if (status.state !== 'valid') options.logger?.warn({ certificate: status }, status.message);
  }

  status(): SigningCertificateStatus {
    return signingCertificateStatus(this.options.certificatePem, { warnDays: this.options.warnDays, now: this.now() });
  }

  /** For /readyz: not ok when signing is blocked; ok with a warning in the detail while expiring. */
  readinessProbe(): () => Promise<{ ok: boolean; detail: string }> {
    return async () => {
      const status = this.status();
      return { ok: status.state === 'valid' || status.state === 'expiring', detail: status.message };
    };
  }
}
