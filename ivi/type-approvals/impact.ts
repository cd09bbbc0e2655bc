import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Prisma } from '../../.generated/prisma/client.ts';
import { appendAuditRecords } from '../../audit/chain.ts';
import { RefusedError } from '../../auth/permissions.ts';
import { discardRefusedVersion, storeRecomposition, UnknownCertificateError } from '../../certificates/store.ts';
import type { Database } from '../../platform/database/prisma.ts';
import type { CertificateStatus, DataVersionRef } from '../../schemas/certificate.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import { submitDataUpdate } from '../../workflows/certificate/definitions.ts';
import type { ImpactAction, ImpactPage, ImpactPlan } from '../../workflows/type-approval-impact/definitions.ts';
import { diffRevisions, type FieldChange, type RevisionDiff } from './diff.ts';
import { createTypeApprovalRepository, UnknownTypeApprovalError } from './repository.ts';

const PAGE_SIZE = 100;

/** Certificates not yet signed: composed again and validated again. */
const RECOMPOSE = new Set<CertificateStatus>(['received', 'validating', 'blocked', 'generated', 'in_review', 'rejected', 'failed']);
/** Approved or signed and not yet delivered: composed again, so back through validation and review. */
const RETURN_TO_REVIEW = new Set<CertificateStatus>(['approved', 'signed', 'awaiting_release']);
/** Delivered (or on its way): only a correction, a new message version, changes what the authority has. */
const CORRECTION_CANDIDATE = new Set<CertificateStatus>(['delivering', 'delivered', 'acknowledged']);

/** Approval fields that are certificate fields too (ivi/type-approvals/repository.ts withIdentity). */
const IDENTITY_PATHS: Record<string, string> = {
  issueDate: 'CocDataGroup/TypeApprovalIssueDate',
  vehicleCategory: 'CocDataGroup/VehicleCategory',
  type: 'CocDataGroup/Type',
  typeApprovalType: 'CocDataGroup/TypeApprovalType',
};

export interface RevisionChanges {
  revision: { id: string; sequence: number; number: string; manufacturerId: string; typeApprovalId: string; effectiveDate: Date; status: string; publishedBy: string | null };
  previousId: string | null;
  diff: RevisionDiff;
  /** Per changed variant/version (`[variant, version]` as JSON), the certificate fields that changed. */
  changed: Map<string, FieldChange[]>;
}

const versionKey = (variant: string, version: string) => JSON.stringify([variant, version]);

const CACHED_REVISIONS = 20;
const publishedChanges = new Map<string, RevisionChanges>();

/**
 * What a published revision changed compared with the published revision in effect before it:
 * the variants/versions whose certificate values differ (approval fields such as the issue date
 * change every version's certificates).
 */
export async function revisionChanges(db: Database, revisionId: string): Promise<RevisionChanges> {
  const row = await db.typeApprovalRevision.findUnique({ where: { id: revisionId }, include: { typeApproval: true } });
  if (!row) throw new UnknownTypeApprovalError(`type-approval revision ${revisionId}`);
  // Published revisions never change, so neither does what they changed (every impact page asks again).
  const cached = row.status === 'published' ? publishedChanges.get(revisionId) : undefined;
  if (cached) return cached;
  const previous = await db.typeApprovalRevision.findFirst({
    where: { typeApprovalId: row.typeApprovalId, status: 'published', id: { not: row.id }, effectiveDate: { lte: row.effectiveDate }, sequence: { lt: row.sequence } },
    orderBy: [{ effectiveDate: 'desc' }, { sequence: 'desc' }],
    select: { id: true },
  });
  const repository = createTypeApprovalRepository(db);
  const after = await repository.revision(row.id, 'all');
  const before = previous ? await repository.revision(previous.id, 'all') : null;
  const diff = diffRevisions(before?.approval ?? { ...after.approval, versions: [] }, after.approval);
  const identity = diff.approval.flatMap((change) => (IDENTITY_PATHS[change.path] ? [{ ...change, path: IDENTITY_PATHS[change.path]! }] : []));
  const changed = new Map<string, FieldChange[]>();
  for (const version of diff.versions) changed.set(versionKey(version.variant, version.version), [...identity, ...version.fields]);
  if (identity.length > 0) {
    for (const version of after.approval.versions) {
      const key = versionKey(version.variant, version.version);
      if (!changed.has(key)) changed.set(key, identity);
    }
  }
  const result: RevisionChanges = {
    revision: {
      id: row.id,
      sequence: row.sequence,
      number: row.typeApproval.number,
      manufacturerId: row.typeApproval.manufacturerId,
      typeApprovalId: row.typeApprovalId,
      effectiveDate: row.effectiveDate,
      status: row.status,
      publishedBy: row.publishedBy,
    },
    previousId: previous?.id ?? null,
    diff,
    changed,
  };
  if (row.status === 'published') {
    publishedChanges.set(revisionId, result);
    if (publishedChanges.size > CACHED_REVISIONS) publishedChanges.delete(publishedChanges.keys().next().value!);
  }
  return result;
}

interface CertificateRow {
  id: string;
  vin: string;
  status: string;
  variant: string;
  version: string;
}

/** Certificates of the changed variants/versions, in id order after `after`. */
async function certificatesOfChangedVersions(db: Database, changes: RevisionChanges, after: string | null, limit: number): Promise<CertificateRow[]> {
  const keys = [...changes.changed.keys()].map((key) => JSON.parse(key) as [string, string]);
  if (keys.length === 0) return [];
  return db.$queryRaw<CertificateRow[]>`
    SELECT c.id, c.vin, c.status, c.variant, c.version FROM certificate c
    JOIN unnest(${keys.map(([variant]) => variant)}::text[], ${keys.map(([, version]) => version)}::text[]) AS k(variant, version)
      ON c.variant = k.variant AND c.version = k.version
    WHERE c.manufacturer_id = ${changes.revision.manufacturerId} AND c.type_approval_number = ${changes.revision.number}
      AND c.id > ${after ?? ''}
    ORDER BY c.id LIMIT ${limit}`;
}

export interface ImpactDependencies {
  db: Database;
  client: Client;
}

/** When the impact can act (the revision's effective date) and how many variants/versions changed. */
export async function planImpact(db: Database, revisionId: string): Promise<ImpactPlan> {
  const changes = await revisionChanges(db, revisionId);
  if (changes.revision.status !== 'published') throw new RefusedError('invalid', `revision ${revisionId} is not published`);
  return { effectiveAt: changes.revision.effectiveDate.toISOString(), changedVersions: changes.changed.size };
}

function reasonText(changes: RevisionChanges, fields: FieldChange[]): string {
  const named = fields.slice(0, 10).map((field) => `${field.path.replace(/^CocDataGroup\//, '')}: ${JSON.stringify(field.from)} → ${JSON.stringify(field.to)}`);
  const more = fields.length > 10 ? `; and ${fields.length - 10} more` : '';
  return `type approval ${changes.revision.number} revision ${changes.revision.sequence} changed ${named.join('; ')}${more}`;
}

/**
 * Hands one certificate its data composed from the revision: a new data version and the
 * certificate workflow's submitData Update (idempotent: the same version again is no change).
 * Returns the data version, or null when the workflow refused it (e.g. withdrawn meanwhile).
 */
async function recompose(deps: ImpactDependencies, changes: RevisionChanges, certificate: CertificateRow, fields: FieldChange[], requestedBy: string): Promise<number | null> {
  let stored;
  try {
    stored = await storeRecomposition(deps.db, certificate.id, { id: changes.revision.id }, { submittedBy: requestedBy, reason: reasonText(changes, fields) });
  } catch (error) {
    if (error instanceof RefusedError || error instanceof UnknownCertificateError) return null;
    throw error;
  }
  const latest = await deps.db.certificateDataVersion.findUniqueOrThrow({ where: { certificateId_version: { certificateId: certificate.id, version: stored.dataVersion } }, select: { record: true } });
  const record = latest.record as unknown as VehicleRecord;
  const ref: DataVersionRef = {
    dataVersion: stored.dataVersion,
    dataHash: stored.dataHash,
    // The publisher's (or requester's) act; publishing takes the homologation role, which may submit vehicle data.
    by: { id: requestedBy, roles: ['homologation'] },
    source: 'type_approval',
    typeApprovalNumber: record.typeApprovalNumber,
    destination: record.destination ?? null,
    authors: stored.authors,
  };
  try {
    await deps.client.workflow.getHandle(certificate.id).executeUpdate(submitDataUpdate, { args: [ref], updateId: `type-approval-${changes.revision.id}-${stored.dataVersion}` });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
      await discardRefusedVersion(deps.db, stored);
      return null;
    }
    throw error;
  }
  return stored.dataVersion;
}

/** Whether the certificate's latest data already comes from this revision or a later one of the same approval. */
async function composedFromThisOrLater(db: Database, certificateId: string, revision: RevisionChanges['revision']): Promise<{ dataVersion: number } | null> {
  const [row] = await db.$queryRaw<{ version: number }[]>`
    SELECT d.version FROM certificate_data_version d
    JOIN type_approval_revision r ON r.id = d.type_approval_revision_id
    WHERE d.certificate_id = ${certificateId} AND r.type_approval_id = ${revision.typeApprovalId}::uuid AND r.sequence >= ${revision.sequence}
      AND d.version = (SELECT max(version) FROM certificate_data_version WHERE certificate_id = ${certificateId})`;
  return row ? { dataVersion: row.version } : null;
}

export interface ApplyImpactInput {
  revisionId: string;
  mode: 'analyse' | 'correct';
  requestedBy: string;
  after: string | null;
  certificateIds?: string[] | undefined;
}

/**
 * One page of the impact: each certificate of a changed variant/version gets the action its
 * state calls for, recorded in type_approval_impact and in the certificate's audit chain.
 * Safe to repeat: the impact row, the data version and the Update are all idempotent.
 */
export async function applyImpactPage(deps: ImpactDependencies, input: ApplyImpactInput): Promise<ImpactPage> {
  const { db } = deps;
  const changes = await revisionChanges(db, input.revisionId);
  let certificates: CertificateRow[];
  if (input.mode === 'analyse') certificates = await certificatesOfChangedVersions(db, changes, input.after, PAGE_SIZE);
  else {
    const candidates = await db.typeApprovalImpact.findMany({
      where: { revisionId: input.revisionId, action: 'correction_candidate', ...(input.certificateIds ? { certificateId: { in: input.certificateIds } } : {}), certificateId: { gt: input.after ?? '' } },
      orderBy: { certificateId: 'asc' },
      take: PAGE_SIZE,
      select: { certificateId: true },
    });
    certificates = await db.certificate.findMany({ where: { id: { in: candidates.map((row) => row.certificateId) } }, orderBy: { id: 'asc' }, select: { id: true, vin: true, status: true, variant: true, version: true } });
  }
  const byAction: Partial<Record<ImpactAction, number>> = {};
  for (const certificate of certificates) {
    const fields = changes.changed.get(versionKey(certificate.variant, certificate.version)) ?? [];
    const status = certificate.status as CertificateStatus;
    let action: ImpactAction = 'skipped';
    let dataVersion: number | null = null;
    const already = await composedFromThisOrLater(db, certificate.id, changes.revision);
    if (already) {
      // Composed from this revision already (a retried page, or a vehicle ingested after publishing).
      const existing = await db.typeApprovalImpact.findUnique({ where: { revisionId_certificateId: { revisionId: input.revisionId, certificateId: certificate.id } } });
      if (existing && input.mode === 'analyse') {
        byAction[existing.action as ImpactAction] = (byAction[existing.action as ImpactAction] ?? 0) + 1;
        continue;
      }
      action = input.mode === 'correct' ? 'correction_issued' : 'skipped';
      dataVersion = already.dataVersion;
    } else if (input.mode === 'correct' || RECOMPOSE.has(status) || RETURN_TO_REVIEW.has(status)) {
      dataVersion = await recompose(deps, changes, certificate, fields, input.requestedBy);
      action = dataVersion === null ? 'skipped' : input.mode === 'correct' ? 'correction_issued' : RECOMPOSE.has(status) ? 'recomposed' : 'returned_to_review';
    } else if (CORRECTION_CANDIDATE.has(status)) action = 'correction_candidate';
    byAction[action] = (byAction[action] ?? 0) + 1;
    await db.$transaction(async (tx) => {
      const changedFields = fields as unknown as Prisma.InputJsonValue;
      await tx.typeApprovalImpact.upsert({
        where: { revisionId_certificateId: { revisionId: input.revisionId, certificateId: certificate.id } },
        create: { revisionId: input.revisionId, certificateId: certificate.id, variant: certificate.variant, version: certificate.version, statusAtImpact: status, action, dataVersion, changedFields },
        update: { action, dataVersion },
      });
      await appendAuditRecords(tx, [
        {
          entryKey: `type-approval-impact-${input.revisionId}-${certificate.id}-${action}`,
          occurredAt: new Date(),
          actor: input.requestedBy,
          action: 'type_approval_impact',
          certificateId: certificate.id,
          detail: { revisionId: input.revisionId, typeApprovalNumber: changes.revision.number, revision: changes.revision.sequence, statusAtImpact: status, action, dataVersion, fields: fields.map((field) => field.path) },
        },
      ]);
    });
  }
  return { next: certificates.length === PAGE_SIZE ? certificates.at(-1)!.id : null, byAction, certificates: certificates.length };
}

/** The hub chain's record that an impact run (or a bulk correction) finished, with its counts. */
export async function recordImpactFinished(db: Database, input: { revisionId: string; mode: string; requestedBy: string; certificates: number; byAction: Record<string, number | undefined> }): Promise<void> {
  await db.$transaction((tx) =>
    appendAuditRecords(tx, [
      {
        entryKey: `type-approval-impact-finished-${input.revisionId}-${input.mode}-${input.certificates}`,
        occurredAt: new Date(),
        actor: input.requestedBy,
        action: input.mode === 'correct' ? 'type_approval.corrections_issued' : 'type_approval.impact_applied',
        certificateId: null,
        detail: { revisionId: input.revisionId, certificates: input.certificates, byAction: input.byAction },
      },
    ]),
  );
}

/** State counts of the certificates a revision's changes reach (before or without acting). */
export async function impactStateCounts(db: Database, revisionId: string): Promise<{ changedVersions: number; byStatus: Record<string, number> }> {
  const changes = await revisionChanges(db, revisionId);
  const keys = [...changes.changed.keys()].map((key) => JSON.parse(key) as [string, string]);
  if (keys.length === 0) return { changedVersions: 0, byStatus: {} };
  const rows = await db.$queryRaw<{ status: string; count: bigint }[]>`
    SELECT c.status, count(*) AS count FROM certificate c
    JOIN unnest(${keys.map(([variant]) => variant)}::text[], ${keys.map(([, version]) => version)}::text[]) AS k(variant, version)
      ON c.variant = k.variant AND c.version = k.version
    WHERE c.manufacturer_id = ${changes.revision.manufacturerId} AND c.type_approval_number = ${changes.revision.number}
    GROUP BY c.status`;
  return { changedVersions: keys.length, byStatus: Object.fromEntries(rows.map((row) => [row.status, Number(row.count)])) };
}

const REPORT_LIMIT = 1_000;

/**
 * The impact report of a published revision: what changed, counts per state (when reached and
 * now) and per action, and the certificates (the first 1,000) with their changed fields.
 */
export async function impactReport(db: Database, revisionId: string, scope: readonly string[] | 'all') {
  const repository = createTypeApprovalRepository(db);
  const { revision } = await repository.revision(revisionId, scope);
  const changes = await revisionChanges(db, revisionId);
  const count = async (column: 'status_at_impact' | 'action') =>
    Object.fromEntries(
      (await db.$queryRawUnsafe<{ key: string; count: bigint }[]>(`SELECT ${column} AS key, count(*) AS count FROM type_approval_impact WHERE revision_id = $1::uuid GROUP BY ${column}`, revisionId)).map(
        (row) => [row.key, Number(row.count)],
      ),
    ) as Record<string, number>;
  const statusNow = await db.$queryRaw<{ key: string; count: bigint }[]>`
    SELECT c.status AS key, count(*) AS count FROM type_approval_impact i JOIN certificate c ON c.id = i.certificate_id
    WHERE i.revision_id = ${revisionId}::uuid GROUP BY c.status`;
  const rows = await db.$queryRaw<
    { certificate_id: string; vin: string; variant: string; version: string; status_at_impact: string; status_now: string; action: string; data_version: number | null; changed_fields: FieldChange[] }[]
  >`
    SELECT i.certificate_id, c.vin, i.variant, i.version, i.status_at_impact, c.status AS status_now, i.action, i.data_version, i.changed_fields
    FROM type_approval_impact i JOIN certificate c ON c.id = i.certificate_id
    WHERE i.revision_id = ${revisionId}::uuid ORDER BY i.certificate_id LIMIT ${REPORT_LIMIT + 1}`;
  return {
    revision,
    previousRevisionId: changes.previousId,
    changedVersions: changes.changed.size,
    counts: { byStatusAtImpact: await count('status_at_impact'), byAction: await count('action'), byStatusNow: Object.fromEntries(statusNow.map((row) => [row.key, Number(row.count)])) },
    certificates: rows.slice(0, REPORT_LIMIT).map((row) => ({
      certificateId: row.certificate_id,
      vin: row.vin,
      variant: row.variant,
      version: row.version,
      statusAtImpact: row.status_at_impact,
      statusNow: row.status_now,
      action: row.action as ImpactAction,
      dataVersion: row.data_version,
      changedFields: row.changed_fields,
    })),
    truncated: rows.length > REPORT_LIMIT,
  };
}

/**
 * Readiness of an approval's vehicle groups: per variant/version how many certificates are in
 * each state and which rules block them, so a team can start with one group and see it through.
 */
export async function approvalReadiness(db: Database, typeApprovalId: string, scope: readonly string[] | 'all') {
  const approval = await createTypeApprovalRepository(db).get(typeApprovalId, scope);
  const states = await db.$queryRaw<{ variant: string; version: string; status: string; count: bigint }[]>`
    SELECT variant, version, status, count(*) AS count FROM certificate
    WHERE manufacturer_id = ${approval.manufacturerId} AND type_approval_number = ${approval.number}
    GROUP BY variant, version, status ORDER BY variant, version`;
  const rules = await db.$queryRaw<{ variant: string; version: string; code: string; count: bigint }[]>`
    SELECT c.variant, c.version, f->>'code' AS code, count(DISTINCT c.id) AS count
    FROM certificate c
    JOIN certificate_data_version d ON d.certificate_id = c.id AND d.version = c.data_version
    CROSS JOIN LATERAL jsonb_array_elements(COALESCE(d.findings, '[]'::jsonb)) AS f
    WHERE c.manufacturer_id = ${approval.manufacturerId} AND c.type_approval_number = ${approval.number}
      AND c.status = 'blocked' AND f->>'severity' = 'error'
    GROUP BY c.variant, c.version, f->>'code' ORDER BY count DESC`;
  const groups = new Map<string, { variant: string; version: string; total: number; byStatus: Record<string, number>; blockingRules: { code: string; certificates: number }[]; ready: boolean }>();
  const group = (variant: string, version: string) => {
    const key = versionKey(variant, version);
    if (!groups.has(key)) groups.set(key, { variant, version, total: 0, byStatus: {}, blockingRules: [], ready: false });
    return groups.get(key)!;
  };
  const byStatus: Record<string, number> = {};
  for (const row of states) {
    const entry = group(row.variant, row.version);
    entry.byStatus[row.status] = Number(row.count);
    entry.total += Number(row.count);
    byStatus[row.status] = (byStatus[row.status] ?? 0) + Number(row.count);
  }
  const blocking = new Map<string, number>();
  for (const row of rules) {
    group(row.variant, row.version).blockingRules.push({ code: row.code, certificates: Number(row.count) });
    blocking.set(row.code, (blocking.get(row.code) ?? 0) + Number(row.count));
  }
  for (const entry of groups.values()) entry.ready = entry.total > 0 && (entry.byStatus.delivered ?? 0) + (entry.byStatus.acknowledged ?? 0) === entry.total;
  return {
    typeApprovalId: approval.id,
    number: approval.number,
    total: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
    byStatus,
    blockingRules: [...blocking].map(([code, certificates]) => ({ code, certificates })).sort((a, b) => b.certificates - a.certificates),
    versions: [...groups.values()],
  };
}

/**
 * Readiness of every approval in scope at a glance (the console dashboard card): certificates per
 * approval, how many delivered and how many blocked. One grouped query over the certificate index.
 */
export async function readinessOverview(db: Database, scope: readonly string[] | 'all') {
  const rows = await db.$queryRaw<{ id: string; manufacturer_id: string; number: string; total: bigint; delivered: bigint; blocked: bigint; in_review: bigint }[]>`
    SELECT a.id, a.manufacturer_id, a.number, count(c.id) AS total,
      count(c.id) FILTER (WHERE c.status IN ('delivered', 'acknowledged')) AS delivered,
      count(c.id) FILTER (WHERE c.status = 'blocked') AS blocked,
      count(c.id) FILTER (WHERE c.status = 'in_review') AS in_review
    FROM type_approval a
    LEFT JOIN certificate c ON c.manufacturer_id = a.manufacturer_id AND c.type_approval_number = a.number
    WHERE ${scope === 'all'} OR a.manufacturer_id = ANY(${scope === 'all' ? [] : [...scope]}::text[])
    GROUP BY a.id ORDER BY a.manufacturer_id, a.number LIMIT 500`;
  return rows.map((row) => ({
    typeApprovalId: row.id,
    manufacturerId: row.manufacturer_id,
    number: row.number,
    certificates: Number(row.total),
    delivered: Number(row.delivered),
    blocked: Number(row.blocked),
    inReview: Number(row.in_review),
  }));
}
