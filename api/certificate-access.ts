import { actorOf, canSeeManufacturer, credentialLabel, type Principal } from '../auth/principal.ts';
import { recordAudit } from '../audit/chain.ts';
import type { Request } from 'express';
import type { Database } from '../platform/database/prisma.ts';
import type { Actor } from '../schemas/certificate.ts';
import { notFound } from './problem.ts';

export type CertificateRow = NonNullable<Awaited<ReturnType<Database['certificate']['findUnique']>>>;

/**
 * The certificate if the caller's manufacturers include its manufacturer; otherwise 404, exactly
 * as for a certificate that does not exist (another manufacturer's VINs are not even confirmed).
 */
export async function visibleCertificate(db: Database, principal: Principal, certificateId: string): Promise<CertificateRow> {
  const row = await db.certificate.findUnique({ where: { id: certificateId } });
  if (!row || !canSeeManufacturer(principal, row.manufacturerId)) throw notFound(`Certificate ${certificateId}`);
  return row;
}

export function requestActor(req: Request): Actor {
  return actorOf(req.principal!, req.id);
}

/** An API action in the audit chain: who, with which credential, in which request. */
export async function auditApiAction(
  db: Database,
  req: Request,
  action: string,
  certificateId: string | null,
  detail: Record<string, unknown>,
): Promise<void> {
  const principal = req.principal!;
  await recordAudit(db, [
    {
      entryKey: null,
      occurredAt: new Date(),
      actor: principal.subject,
      action: `api:${action}`,
      certificateId,
      detail: { credential: credentialLabel(principal), requestId: req.id, ...detail },
    },
  ]);
}
