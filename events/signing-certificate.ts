import { recordAudit } from '../audit/chain.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { SigningCertificateMonitor } from '../signing/certificate-monitor.ts';
import { SYSTEM } from '../workflows/certificate/state.ts';
import { eventActions } from './catalogue.ts';

const HOUR_MS = 3_600_000;

/**
 * Records, once per signing certificate, that it entered its warning window (audit record in the
 * hub chain keyed by the certificate's fingerprint, and with it the `signing_certificate.expiring`
 * event). Checked at start and hourly; every worker checks, the key makes it one occurrence.
 */
export function watchSigningCertificate(options: { db: Database; monitor: SigningCertificateMonitor; logger: Logger; intervalMs?: number }): { stop(): void } {
  const check = async () => {
    const status = options.monitor.status();
    if (status.state !== 'expiring') return;
    await recordAudit(options.db, [
      {
        entryKey: `signing-certificate-expiring:${status.fingerprint}`,
        occurredAt: new Date(),
        actor: SYSTEM,
        action: eventActions.signingCertificateExpiring,
        certificateId: null,
        detail: { subject: status.subject, issuer: status.issuer, serialNumber: status.serialNumber, fingerprint: status.fingerprint, notAfter: status.notAfter, daysToExpiry: status.daysToExpiry },
      },
    ]);
  };
  const run = () => check().catch((error: unknown) => options.logger.warn({ err: error }, 'could not record the signing certificate state; checking again within the hour'));
  void run();
  const timer = setInterval(run, options.intervalMs ?? HOUR_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
