import { advisory, type ReadinessProbe } from '../platform/readiness.ts';
import type { SigningCertificateMonitor } from '../signing/certificate-monitor.ts';

/**
 * /readyz check of the signing certificate: ok while it can sign, with validity and days left in
 * the detail and `data`. Advisory: the process keeps serving (an expiring or expired certificate
 * alarms through `ecoc_signing_certificate_state` and `_expiry_days`, and signing refuses on its own).
 */
export function signingCertificateProbe(monitor: SigningCertificateMonitor): ReadinessProbe {
  const probe = monitor.readinessProbe();
  return advisory(async () => {
    const { ok } = await probe();
    const status = monitor.status();
    return {
      ok,
      detail: `${status.message} [${status.state}; ${status.daysToExpiry} days to expiry; valid ${status.notBefore} to ${status.notAfter}; SHA-256 ${status.fingerprint}]`,
      data: { state: status.state, daysToExpiry: status.daysToExpiry, notAfter: status.notAfter },
    };
  });
}
