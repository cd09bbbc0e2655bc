import { canSeeManufacturer, type Principal } from '../../../auth/principal.ts';
import type { Database } from '../../../platform/database/prisma.ts';
import { notFound } from '../../problem.ts';

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
