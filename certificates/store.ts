import { Prisma } from '../.generated/prisma/client.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import { canonicalJson, sha256Hex } from './hash.ts';

export interface StoredDataVersion {
  certificateId: string;
  dataVersion: number;
  dataHash: string;
  /** True when the same data was already the latest version (a repeated ingest). */
  unchanged: boolean;
  /** True when this call created the certificate. */
  created: boolean;
}

export class CertificateOwnershipError extends Error {
  override name = 'CertificateOwnershipError';
}

/**
 * Stores a vehicle record as the certificate's next data version, idempotently: the same data
 * again is no new version, and concurrent writers serialise on the certificate row.
 */
export async function storeDataVersion(
  db: Database,
  certificateId: string,
  record: VehicleRecord,
  meta: { source: string; submittedBy: string; reason?: string | undefined },
): Promise<StoredDataVersion> {
  const hash = sha256Hex(canonicalJson(record));
  return db.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO certificate (id, manufacturer_id, vin, stage, type_approval_number, variant, version, destination, updated_at)
      VALUES (${certificateId}, ${record.manufacturerId}, ${record.vin}, ${record.stage}, ${record.typeApprovalNumber}, ${record.variant}, ${record.version}, ${record.destination ?? null}, now())
      ON CONFLICT (id) DO NOTHING`;
    const [certificate] = await tx.$queryRaw<{ manufacturer_id: string }[]>`SELECT manufacturer_id FROM certificate WHERE id = ${certificateId} FOR UPDATE`;
    if (certificate!.manufacturer_id !== record.manufacturerId) {
      throw new CertificateOwnershipError(`VIN ${record.vin} stage ${record.stage} belongs to another manufacturer`);
    }
    const latest = await tx.certificateDataVersion.findFirst({ where: { certificateId }, orderBy: { version: 'desc' } });
    if (latest && latest.hash === hash) {
      return { certificateId, dataVersion: latest.version, dataHash: hash, unchanged: true, created: false };
    }
    const dataVersion = (latest?.version ?? 0) + 1;
    await tx.certificateDataVersion.create({
      data: {
        certificateId,
        version: dataVersion,
        record: record as unknown as Prisma.InputJsonValue,
        hash,
        source: meta.source,
        submittedBy: meta.submittedBy,
        reason: meta.reason ?? null,
      },
    });
    await tx.certificate.update({
      where: { id: certificateId },
      data: { typeApprovalNumber: record.typeApprovalNumber, variant: record.variant, version: record.version, destination: record.destination ?? null },
    });
    return { certificateId, dataVersion, dataHash: hash, unchanged: false, created: inserted > 0 };
  });
}

export async function loadDataVersion(db: Database, certificateId: string, version: number): Promise<VehicleRecord> {
  const row = await db.certificateDataVersion.findUnique({ where: { certificateId_version: { certificateId, version } } });
  if (!row) throw new Error(`certificate ${certificateId} has no data version ${version}`);
  return row.record as unknown as VehicleRecord;
}
