import type { ReadinessProbe } from '../platform/readiness.ts';
import type { SigningCertificateMonitor } from '../signing/certificate-monitor.ts';

/** /readyz check of the signing certificate: ready while it can sign, with validity and days left in the detail. */
export function signingCertificateProbe(monitor: SigningCertificateMonitor): ReadinessProbe {
  const probe = monitor.readinessProbe();
  return async () => {
    const { ok } = await probe();
    const status = monitor.status();
    return { ok, detail: `${status.message} [${status.state}; ${status.daysToExpiry} days to expiry; valid ${status.notBefore} to ${status.notAfter}; SHA-256 ${status.fingerprint}]` };
  };
}
