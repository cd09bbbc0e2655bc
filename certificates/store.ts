import type { Prisma } from '../.generated/prisma/client.ts';
import { RefusedError } from '../auth/permissions.ts';
import type { Correction } from '../ivi/compose.ts';
import { createTypeApprovalRepository } from '../ivi/type-approvals/repository.ts';
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
  /** Who delivered the record and every author of a correction the version carries (four-eyes). */
  authors: string[];
}

export interface DataVersion {
  version: number;
  record: VehicleRecord;
  corrections: Correction[];
  /** The type-approval revision the version is composed from (null: not in the master data). */
  typeApprovalRevisionId: string | null;
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

/**
 * A withdrawn certificate is final: no new data version, from any source, whatever Temporal's
 * workflow id reuse policy would allow (the database's status projection knows it was withdrawn).
 */
export class CertificateWithdrawnError extends RefusedError {
  override name = 'CertificateWithdrawnError';
  constructor(certificateId: string, withdrawnAt: Date) {
    super(
      'not_allowed_in_state',
      `${certificateId} was withdrawn on ${withdrawnAt.toISOString()}; a withdrawn eCoC stays withdrawn and takes no new data. ` +
        'Where the law allows a new certificate for this vehicle, that is a new issue decided by the type-approval holder, not a data update (see api/README.md, withdrawal finality).',
    );
  }
}

type Tx = Prisma.TransactionClient;

/** The version's identity: what was delivered, what people corrected, and the approval revision it is composed from. */
function dataHash(record: VehicleRecord, corrections: Correction[], typeApprovalRevisionId: string | null): string {
  return sha256Hex(canonicalJson({ record, corrections, ...(typeApprovalRevisionId ? { typeApprovalRevisionId } : {}) }));
}

async function appendVersion(
  tx: Tx,
  certificateId: string,
  record: VehicleRecord,
  corrections: Correction[],
  typeApprovalRevisionId: string | null,
  meta: { source: string; submittedBy: string; reason?: string | undefined },
  latestVersion: number,
): Promise<{ dataVersion: number; dataHash: string }> {
  const hash = dataHash(record, corrections, typeApprovalRevisionId);
  const dataVersion = latestVersion + 1;
  await tx.certificateDataVersion.create({
    data: {
      certificateId,
      version: dataVersion,
      record: record as unknown as Prisma.InputJsonValue,
      corrections: corrections as unknown as Prisma.InputJsonValue,
      typeApprovalRevisionId,
      hash,
      source: meta.source,
      submittedBy: meta.submittedBy,
      reason: meta.reason ?? null,
    },
  });
  return { dataVersion, dataHash: hash };
}

/** Locks the certificate row, so concurrent writers of one certificate take turns; refuses a withdrawn one. */
async function lockCertificate(tx: Tx, certificateId: string): Promise<{ manufacturer_id: string } | undefined> {
  const [row] = await tx.$queryRaw<{ manufacturer_id: string; status: string; status_changed_at: Date }[]>`
    SELECT manufacturer_id, status, status_changed_at FROM certificate WHERE id = ${certificateId} FOR UPDATE`;
  if (row?.status === 'withdrawn') throw new CertificateWithdrawnError(certificateId, row.status_changed_at);
  return row;
}

/** Versions that carry the record of an earlier delivery rather than a delivery of their own. */
const CARRIED_RECORD_SOURCES = ['correction', 'type_approval'];

/**
 * The delivery whose record a version carries: the version itself, or for a correction or a
 * type-approval recomposition the last delivery before it (they copy its record). Credited as
 * the record's source.
 */
export async function recordDelivery<V extends { version: number; source: string; submittedBy: string }>(
  db: Tx | Database,
  certificateId: string,
  version: V,
): Promise<Pick<V, 'source' | 'submittedBy'> | null> {
  if (!CARRIED_RECORD_SOURCES.includes(version.source)) return version;
  return db.certificateDataVersion.findFirst({
    where: { certificateId, version: { lt: version.version }, source: { notIn: CARRIED_RECORD_SOURCES } },
    orderBy: { version: 'desc' },
    select: { source: true, submittedBy: true },
  });
}

/**
 * Everyone who authored a value of a version: who delivered its record, each correction's
 * author, and for a type-approval recomposition whoever drafted the revision.
 */
async function authorsOf(
  db: Tx | Database,
  certificateId: string,
  version: { version: number; source: string; submittedBy: string; typeApprovalRevisionId?: string | null },
  corrections: Correction[],
): Promise<string[]> {
  const delivery = await recordDelivery(db, certificateId, version);
  const drafters =
    version.source === 'type_approval' && version.typeApprovalRevisionId
      ? ((await db.typeApprovalRevision.findUnique({ where: { id: version.typeApprovalRevisionId }, select: { draftedBy: true } }))?.draftedBy ?? [])
      : [];
  return [...new Set([delivery?.submittedBy ?? version.submittedBy, ...corrections.map((correction) => correction.by), ...drafters])];
}

/**
 * Stores a vehicle record as the certificate's next data version, idempotently: the same data
 * again is no new version. Corrections made by people stay on top of newly delivered records.
 * The version is composed from the type-approval revision in effect now (null when the
 * approval, variant or version is not in the master data).
 */
export async function storeDataVersion(
  db: Database,
  certificateId: string,
  record: VehicleRecord,
  meta: { source: string; submittedBy: string },
): Promise<StoredDataVersion> {
  const revisionId = await createTypeApprovalRepository(db).effectiveRevisionId({
    manufacturerId: record.manufacturerId,
    number: record.typeApprovalNumber,
    variant: record.variant,
    version: record.version,
  });
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
    if (latest && latest.hash === dataHash(record, corrections, revisionId)) {
      return { certificateId, dataVersion: latest.version, dataHash: latest.hash, unchanged: true, created: false, authors: await authorsOf(tx, certificateId, latest, corrections) };
    }
    const stored = await appendVersion(tx, certificateId, record, corrections, revisionId, meta, latest?.version ?? 0);
    await tx.certificate.update({
      where: { id: certificateId },
      data: { typeApprovalNumber: record.typeApprovalNumber, variant: record.variant, version: record.version, destination: record.destination ?? null },
    });
    return { certificateId, ...stored, unchanged: false, created: inserted > 0, authors: [...new Set([meta.submittedBy, ...corrections.map((correction) => correction.by)])] };
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
    const stored = await appendVersion(tx, certificateId, record, corrections, latest!.typeApprovalRevisionId, { source: 'correction', ...meta }, latest!.version);
    const authors = await authorsOf(tx, certificateId, { version: stored.dataVersion, source: 'correction', submittedBy: meta.submittedBy }, corrections);
    return { certificateId, ...stored, unchanged: false, created: false, authors };
  });
}

/**
 * The certificate's latest data composed again from another type-approval revision (source
 * `type_approval`): same record, same corrections. Its authors include whoever drafted the
 * revision, so none of them can approve it alone. Idempotent: composing
 * from the revision the latest version already uses adds nothing.
 */
export async function storeRecomposition(
  db: Database,
  certificateId: string,
  revision: { id: string },
  meta: { submittedBy: string; reason: string },
): Promise<StoredDataVersion> {
  return db.$transaction(async (tx) => {
    if (!(await lockCertificate(tx, certificateId))) throw new UnknownCertificateError(`no certificate ${certificateId}`);
    const latest = await tx.certificateDataVersion.findFirst({ where: { certificateId }, orderBy: { version: 'desc' } });
    if (!latest) throw new UnknownCertificateError(`certificate ${certificateId} has no data`);
    const record = latest.record as unknown as VehicleRecord;
    const corrections = (latest.corrections ?? []) as unknown as Correction[];
    if (latest.typeApprovalRevisionId === revision.id) {
      return { certificateId, dataVersion: latest.version, dataHash: latest.hash, unchanged: true, created: false, authors: await authorsOf(tx, certificateId, latest, corrections) };
    }
    const stored = await appendVersion(tx, certificateId, record, corrections, revision.id, { source: 'type_approval', ...meta }, latest.version);
    const authors = await authorsOf(tx, certificateId, { version: stored.dataVersion, source: 'type_approval', submittedBy: meta.submittedBy, typeApprovalRevisionId: revision.id }, corrections);
    return { certificateId, ...stored, unchanged: false, created: false, authors };
  });
}

/** The authors of a stored version (four-eyes), for a caller that sends it to the workflow again. */
export async function authorsOfVersion(db: Database, certificateId: string, version: number): Promise<string[]> {
  const row = await db.certificateDataVersion.findUnique({ where: { certificateId_version: { certificateId, version } }, select: { version: true, source: true, submittedBy: true, corrections: true, typeApprovalRevisionId: true } });
  if (!row) throw new UnknownCertificateError(`certificate ${certificateId} has no data version ${version}`);
  return authorsOf(db, certificateId, row, (row.corrections ?? []) as unknown as Correction[]);
}

/**
 * Takes back a version the certificate workflow refused (it never became the certificate's
 * data), and the certificate row if that version created it: nothing refused stays stored.
 * Only while it is still the latest version, so a later writer's version is never touched.
 */
export async function discardRefusedVersion(db: Database, stored: StoredDataVersion): Promise<void> {
  if (stored.unchanged) return;
  await db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM certificate WHERE id = ${stored.certificateId} FOR UPDATE`;
    if (!row) return;
    const latest = await tx.certificateDataVersion.findFirst({ where: { certificateId: stored.certificateId }, orderBy: { version: 'desc' }, select: { version: true, hash: true } });
    if (latest?.version !== stored.dataVersion || latest.hash !== stored.dataHash) return;
    await tx.certificateDataVersion.delete({ where: { certificateId_version: { certificateId: stored.certificateId, version: stored.dataVersion } } });
    if (stored.created && stored.dataVersion === 1) await tx.certificate.delete({ where: { id: stored.certificateId } });
  });
}

export async function loadDataVersion(db: Database, certificateId: string, version: number): Promise<DataVersion> {
  const row = await db.certificateDataVersion.findUnique({ where: { certificateId_version: { certificateId, version } } });
  if (!row) throw new UnknownCertificateError(`certificate ${certificateId} has no data version ${version}`);
  return {
    version: row.version,
    record: row.record as unknown as VehicleRecord,
    corrections: row.corrections as unknown as Correction[],
    typeApprovalRevisionId: row.typeApprovalRevisionId,
    source: row.source,
    submittedBy: row.submittedBy,
    createdAt: row.createdAt,
  };
}
