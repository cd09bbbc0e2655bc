import type { Prisma } from '../.generated/prisma/client.ts';
import type { Correction } from '../ivi/compose.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import { canonicalJson, sha256Hex } from '../platform/hash.ts';

export interface StoredDataVersion {
  certificateId: string;
  dataVersion: number;
  dataHash: string;
  /** True when the same data was already the latest version (a repeated ingest). */
  unchanged: boolean;
  /** True when this call created the certificate. */
  created: boolean;
}

export interface DataVersion {
  version: number;
  record: VehicleRecord;
  corrections: Correction[];
  source: string;
  submittedBy: string;
  createdAt: Date;
}

export class CertificateOwnershipError extends Error {
  override name = 'CertificateOwnershipError';
}

export class UnknownCertificateError extends Error {
  override name = 'UnknownCertificateError';
}

type Tx = Prisma.TransactionClient;

function dataHash(record: VehicleRecord, corrections: Correction[]): string {
  return sha256Hex(canonicalJson({ record, corrections }));
}

async function appendVersion(
  tx: Tx,
  certificateId: string,
  record: VehicleRecord,
  corrections: Correction[],
  meta: { source: string; submittedBy: string; reason?: string | undefined },
  latestVersion: number,
): Promise<{ dataVersion: number; dataHash: string }> {
  const hash = dataHash(record, corrections);
  const dataVersion = latestVersion + 1;
  await tx.certificateDataVersion.create({
    data: {
      certificateId,
      version: dataVersion,
      record: record as unknown as Prisma.InputJsonValue,
      corrections: corrections as unknown as Prisma.InputJsonValue,
      hash,
      source: meta.source,
      submittedBy: meta.submittedBy,
      reason: meta.reason ?? null,
    },
  });
  return { dataVersion, dataHash: hash };
}

/** Locks the certificate row, so concurrent writers of one certificate take turns. */
async function lockCertificate(tx: Tx, certificateId: string): Promise<{ manufacturer_id: string } | undefined> {
  const [row] = await tx.$queryRaw<{ manufacturer_id: string }[]>`SELECT manufacturer_id FROM certificate WHERE id = ${certificateId} FOR UPDATE`;
  return row;
}

/**
 * Stores a vehicle record as the certificate's next data version, idempotently: the same data
 * again is no new version. Corrections made by people stay on top of newly delivered records.
 */
export async function storeDataVersion(
  db: Database,
  certificateId: string,
  record: VehicleRecord,
  meta: { source: string; submittedBy: string },
): Promise<StoredDataVersion> {
  return db.$transaction(async (tx) => {
    const inserted = await tx.$executeRaw`
      INSERT INTO certificate (id, manufacturer_id, vin, stage, type_approval_number, variant, version, destination, updated_at)
      VALUES (${certificateId}, ${record.manufacturerId}, ${record.vin}, ${record.stage}, ${record.typeApprovalNumber}, ${record.variant}, ${record.version}, ${record.destination ?? null}, now())
      ON CONFLICT (id) DO NOTHING`;
    const certificate = await lockCertificate(tx, certificateId);
    if (certificate!.manufacturer_id !== record.manufacturerId) {
      throw new CertificateOwnershipError(`VIN ${record.vin} stage ${record.stage} is registered for another manufacturer`);
    }
    const latest = await tx.certificateDataVersion.findFirst({ where: { certificateId }, orderBy: { version: 'desc' } });
    const corrections = (latest?.corrections ?? []) as unknown as Correction[];
    if (latest && latest.hash === dataHash(record, corrections)) {
      return { certificateId, dataVersion: latest.version, dataHash: latest.hash, unchanged: true, created: false };
    }
    const stored = await appendVersion(tx, certificateId, record, corrections, meta, latest?.version ?? 0);
    await tx.certificate.update({
      where: { id: certificateId },
      data: { typeApprovalNumber: record.typeApprovalNumber, variant: record.variant, version: record.version, destination: record.destination ?? null },
    });
    return { certificateId, ...stored, unchanged: false, created: inserted > 0 };
  });
}

/** Adds people's field corrections as the next data version. */
export async function storeCorrections(
  db: Database,
  certificateId: string,
  added: Correction[],
  meta: { submittedBy: string; reason: string },
): Promise<StoredDataVersion> {
  return db.$transaction(async (tx) => {
    if (!(await lockCertificate(tx, certificateId))) throw new UnknownCertificateError(`no certificate ${certificateId}`);
    const latest = await tx.certificateDataVersion.findFirst({ where: { certificateId }, orderBy: { version: 'desc' } });
    const record = latest!.record as unknown as VehicleRecord;
    const corrections = [...((latest!.corrections ?? []) as unknown as Correction[]), ...added];
    const stored = await appendVersion(tx, certificateId, record, corrections, { source: 'correction', ...meta }, latest!.version);
    return { certificateId, ...stored, unchanged: false, created: false };
  });
}

export async function loadDataVersion(db: Database, certificateId: string, version: number): Promise<DataVersion> {
  const row = await db.certificateDataVersion.findUnique({ where: { certificateId_version: { certificateId, version } } });
  if (!row) throw new UnknownCertificateError(`certificate ${certificateId} has no data version ${version}`);
  return {
    version: row.version,
    record: row.record as unknown as VehicleRecord,
    corrections: row.corrections as unknown as Correction[],
    source: row.source,
    submittedBy: row.submittedBy,
    createdAt: row.createdAt,
  };
}
