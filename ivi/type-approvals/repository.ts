import type { Prisma } from '../../.generated/prisma/client.ts';
import { RefusedError } from '../../auth/permissions.ts';
import type { Database } from '../../platform/database/prisma.ts';
import type { CocDataGroupValues } from '../../schemas/ivi/index.ts';
import { cocDataGroupValuesSchema } from '../../schemas/ivi/index.ts';
import { iviFieldSchema } from '../../schemas/ivi/field-paths.ts';
import {
  typeApprovalDraftSchema,
  typeApprovalSchema,
  type TypeApproval,
  type TypeApprovalDraft,
  type TypeApprovalDraftInput,
  type TypeApprovalRevision,
  type TypeApprovalVersion,
} from '../../schemas/ivi/type-approval.ts';
import { composeCertificateData } from '../compose.ts';
import { diffRevisions, type RevisionDiff } from './diff.ts';

type Tx = Prisma.TransactionClient;
type RevisionRow = Prisma.TypeApprovalRevisionGetPayload<{ include: { typeApproval: true } }>;

/** The approved data a certificate starts from (ivi/compose.ts `typeApprovalValues`). */
export interface ApprovedVersionValues {
  typeApprovalId: string;
  /** The published revision the values come from. */
  revision: { id: string; sequence: number; extensionNumber: string };
  approval: Omit<TypeApproval, 'versions'>;
  variant: string;
  version: string;
  /** The version's technical values with the approval's identity fields filled in. */
  values: CocDataGroupValues;
}

export interface TypeApprovalKey {
  manufacturerId: string;
  number: string;
  variant: string;
  version: string;
}

/** A revision with what it says: the approval's fields and its variants/versions. */
export interface RevisionContent {
  revision: TypeApprovalRevision;
  approval: TypeApproval;
}

export interface TypeApprovalSummary {
  id: string;
  manufacturerId: string;
  number: string;
  type: string;
  vehicleCategory: string;
  revisions: number;
  /** The newest published revision (what vehicles are composed from once it is effective). */
  published: Pick<TypeApprovalRevision, 'id' | 'sequence' | 'extensionNumber' | 'effectiveDate' | 'publishedAt'> | null;
  draft: Pick<TypeApprovalRevision, 'id' | 'sequence' | 'extensionNumber' | 'draftedBy'> | null;
  versions: number;
}

const isoDate = (date: Date) => date.toISOString().slice(0, 10);
const asDate = (date: string) => new Date(`${date}T00:00:00Z`);

function revisionOf(row: RevisionRow): TypeApprovalRevision {
  return {
    id: row.id,
    typeApprovalId: row.typeApprovalId,
    sequence: row.sequence,
    status: row.status as TypeApprovalRevision['status'],
    extensionNumber: row.extensionNumber,
    effectiveDate: isoDate(row.effectiveDate),
    reason: row.reason,
    number: row.typeApproval.number,
    ...(row.baseAct ? { baseAct: row.baseAct } : {}),
    issueDate: isoDate(row.issueDate),
    typeApprovalType: row.typeApprovalType as TypeApprovalRevision['typeApprovalType'],
    vehicleCategory: row.vehicleCategory as TypeApprovalRevision['vehicleCategory'],
    approvalCountry: row.approvalCountry as TypeApprovalRevision['approvalCountry'],
    type: row.type,
    draftedBy: row.draftedBy,
    publishedBy: row.publishedBy,
    publishedAt: row.publishedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

function approvalHeader(row: RevisionRow): Omit<TypeApproval, 'versions'> {
  return typeApprovalSchema.omit({ versions: true }).parse({
    manufacturerId: row.typeApproval.manufacturerId,
    number: row.typeApproval.number,
    ...(row.baseAct ? { baseAct: row.baseAct } : {}),
    issueDate: isoDate(row.issueDate),
    typeApprovalType: row.typeApprovalType,
    vehicleCategory: row.vehicleCategory,
    approvalCountry: row.approvalCountry,
    type: row.type,
  });
}

/** The identity fields a certificate takes from the approval rather than from the version's values. */
function withIdentity(approval: Omit<TypeApproval, 'versions'>, variant: string, version: string, technical: CocDataGroupValues): CocDataGroupValues {
  return {
    ...technical,
    TypeApprovalType: approval.typeApprovalType,
    TypeApprovalNumber: approval.number,
    TypeApprovalIssueDate: approval.issueDate,
    VehicleCategory: approval.vehicleCategory,
    Type: approval.type,
    Variant: variant,
    Version: version,
  };
}

function revisionColumns(draft: TypeApprovalDraft) {
  return {
    extensionNumber: draft.revision.extensionNumber,
    effectiveDate: asDate(draft.revision.effectiveDate),
    reason: draft.revision.reason,
    baseAct: draft.baseAct ?? null,
    issueDate: asDate(draft.issueDate),
    typeApprovalType: draft.typeApprovalType,
    vehicleCategory: draft.vehicleCategory,
    approvalCountry: draft.approvalCountry,
    type: draft.type,
  };
}

function duplicateVersion(versions: readonly TypeApprovalVersion[]): TypeApprovalVersion | undefined {
  const seen = new Set<string>();
  return versions.find((version) => {
    const key = JSON.stringify([version.variant, version.version]);
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  });
}

/** Versions in batches: one approval may list thousands of versions. */
async function insertVersions(tx: Tx, revisionId: string, versions: readonly TypeApprovalVersion[]): Promise<void> {
  for (let start = 0; start < versions.length; start += 500) {
    await tx.typeApprovalVersion.createMany({
      data: versions.slice(start, start + 500).map((version) => ({ revisionId, variant: version.variant, version: version.version, values: version.values as Prisma.InputJsonValue })),
    });
  }
}

export class UnknownTypeApprovalError extends RefusedError {
  override name = 'UnknownTypeApprovalError';
  constructor(what: string) {
    super('not_found', `no ${what}`);
  }
}

/**
 * Type-approval master data with history. A revision is the approval's content as one extension
 * or amendment states it; drafts change, published revisions never do; each approval has at most
 * one draft. Publishing needs a second person (four-eyes over everyone who drafted).
 */
export function createTypeApprovalRepository(db: Database) {
  async function lockApproval(tx: Tx, manufacturerId: string, number: string): Promise<string> {
    await tx.$executeRaw`INSERT INTO type_approval (id, manufacturer_id, number, updated_at) VALUES (gen_random_uuid(), ${manufacturerId}, ${number}, now()) ON CONFLICT (manufacturer_id, number) DO NOTHING`;
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM type_approval WHERE manufacturer_id = ${manufacturerId} AND number = ${number} FOR UPDATE`;
    return row!.id;
  }

  async function loadRevision(revisionId: string, scope?: readonly string[] | 'all'): Promise<RevisionRow> {
    const row = /^[0-9a-f-]{36}$/i.test(revisionId) ? await db.typeApprovalRevision.findUnique({ where: { id: revisionId }, include: { typeApproval: true } }) : null;
    if (!row || !inScope(row.typeApproval.manufacturerId, scope)) throw new UnknownTypeApprovalError(`type-approval revision ${revisionId}`);
    return row;
  }

  async function content(row: RevisionRow): Promise<RevisionContent> {
    const versions = await db.typeApprovalVersion.findMany({ where: { revisionId: row.id }, orderBy: [{ variant: 'asc' }, { version: 'asc' }] });
    return {
      revision: revisionOf(row),
      approval: {
        ...approvalHeader(row),
        // Checked against the IVI schema when written (saveDraft, setDraftValue); thousands of versions are not parsed again on every read.
        versions: versions.map((version) => ({ variant: version.variant, version: version.version, values: version.values as CocDataGroupValues })),
      },
    };
  }

  /** The newest published revision in effect on `at` (by effective date, then by order of drafting). */
  async function effectiveRevision(manufacturerId: string, number: string, at: Date): Promise<RevisionRow | null> {
    return db.typeApprovalRevision.findFirst({
      where: { status: 'published', effectiveDate: { lte: at }, typeApproval: { manufacturerId, number } },
      orderBy: [{ effectiveDate: 'desc' }, { sequence: 'desc' }],
      include: { typeApproval: true },
    });
  }

  async function versionValues(row: RevisionRow, variant: string, version: string): Promise<ApprovedVersionValues | null> {
    const stored = await db.typeApprovalVersion.findUnique({ where: { revisionId_variant_version: { revisionId: row.id, variant, version } } });
    if (!stored) return null;
    const approval = approvalHeader(row);
    return {
      typeApprovalId: row.typeApprovalId,
      revision: { id: row.id, sequence: row.sequence, extensionNumber: row.extensionNumber },
      approval,
      variant,
      version,
      values: withIdentity(approval, variant, version, cocDataGroupValuesSchema.parse(stored.values)),
    };
  }

  return {
    /**
     * Creates the approval's draft revision, or replaces the content of its open draft (a
     * re-imported spreadsheet). Everyone who drafted is remembered for the four-eyes check.
     */
    async saveDraft(input: TypeApprovalDraftInput, by: string): Promise<{ typeApprovalId: string; revisionId: string; sequence: number; created: boolean }> {
      const draft = typeApprovalDraftSchema.parse(input);
      const duplicate = duplicateVersion(draft.versions);
      if (duplicate) throw new RefusedError('invalid', `variant ${duplicate.variant} version ${duplicate.version} is listed twice`);
      return db.$transaction(
        async (tx) => {
          const typeApprovalId = await lockApproval(tx, draft.manufacturerId, draft.number);
          const open = await tx.typeApprovalRevision.findFirst({ where: { typeApprovalId, status: 'draft' } });
          if (open) {
            await tx.typeApprovalVersion.deleteMany({ where: { revisionId: open.id } });
            await tx.typeApprovalRevision.update({
              where: { id: open.id },
              data: { ...revisionColumns(draft), draftedBy: [...new Set([...open.draftedBy, by])] },
            });
            await insertVersions(tx, open.id, draft.versions);
            return { typeApprovalId, revisionId: open.id, sequence: open.sequence, created: false };
          }
          const last = await tx.typeApprovalRevision.findFirst({ where: { typeApprovalId }, orderBy: { sequence: 'desc' }, select: { sequence: true } });
          const revision = await tx.typeApprovalRevision.create({
            data: { typeApprovalId, sequence: (last?.sequence ?? 0) + 1, status: 'draft', draftedBy: [by], ...revisionColumns(draft) },
          });
          await insertVersions(tx, revision.id, draft.versions);
          return { typeApprovalId, revisionId: revision.id, sequence: revision.sequence, created: true };
        },
        { timeout: 60_000 },
      );
    },

    /**
     * Opens a draft from the newest revision (published or not) so single values can be edited;
     * the open draft itself when there is one.
     */
    async openDraft(typeApprovalId: string, by: string, scope: readonly string[] | 'all', meta: { extensionNumber: string; effectiveDate: string; reason: string }): Promise<{ revisionId: string; sequence: number }> {
      const approval = await db.typeApproval.findUnique({ where: { id: typeApprovalId } });
      if (!approval || !inScope(approval.manufacturerId, scope)) throw new UnknownTypeApprovalError(`type approval ${typeApprovalId}`);
      const newest = await db.typeApprovalRevision.findFirst({ where: { typeApprovalId }, orderBy: { sequence: 'desc' }, include: { typeApproval: true } });
      if (!newest) throw new UnknownTypeApprovalError(`revision of type approval ${typeApprovalId}`);
      if (newest.status === 'draft') return { revisionId: newest.id, sequence: newest.sequence };
      const { approval: current } = await content(newest);
      const saved = await this.saveDraft({ ...current, revision: meta }, by);
      return { revisionId: saved.revisionId, sequence: saved.sequence };
    },

    /** Sets (or with `null` removes) one value of one version in a draft, checked against the IVI field's type. */
    async setDraftValue(revisionId: string, change: { variant: string; version: string; path: string; value: unknown }, by: string, scope: readonly string[] | 'all'): Promise<{ path: string; value: unknown }> {
      const field = iviFieldSchema(change.path);
      if ('problem' in field) throw new RefusedError('invalid', `${change.path}: ${field.problem}`);
      if (change.value !== null) {
        const checked = field.schema.safeParse(change.value);
        if (!checked.success) throw new RefusedError('invalid', `${field.path}: ${checked.error.issues.map((issue) => issue.message).join('; ')}`);
      }
      return db.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ status: string; manufacturer_id: string; drafted_by: string[] }[]>`
          SELECT r.status, a.manufacturer_id, r.drafted_by FROM type_approval_revision r JOIN type_approval a ON a.id = r.type_approval_id
          WHERE r.id = ${revisionId}::uuid FOR UPDATE OF r`;
        if (!row || !inScope(row.manufacturer_id, scope)) throw new UnknownTypeApprovalError(`type-approval revision ${revisionId}`);
        if (row.status !== 'draft') throw new RefusedError('not_allowed_in_state', `revision ${revisionId} is ${row.status}; published revisions never change, open a new draft`);
        const stored = await tx.typeApprovalVersion.findUnique({ where: { revisionId_variant_version: { revisionId, variant: change.variant, version: change.version } } });
        if (!stored) throw new UnknownTypeApprovalError(`variant ${change.variant} version ${change.version} in revision ${revisionId}`);
        const composed = composeCertificateData({
          typeApprovalValues: cocDataGroupValuesSchema.parse(stored.values),
          vehicleValues: [],
          corrections: [{ path: field.path, value: change.value, by, at: new Date().toISOString() }],
        });
        const values = cocDataGroupValuesSchema.safeParse(composed.values);
        if (!values.success) throw new RefusedError('invalid', `${field.path}: ${values.error.issues.map((issue) => `${issue.path.join('/')}: ${issue.message}`).join('; ')}`);
        await tx.typeApprovalVersion.update({ where: { id: stored.id }, data: { values: values.data as Prisma.InputJsonValue } });
        await tx.typeApprovalRevision.update({ where: { id: revisionId }, data: { draftedBy: [...new Set([...row.drafted_by, by])] } });
        return { path: field.path, value: change.value };
      });
    },

    /**
     * Publishes a draft. Nobody who drafted it may publish it; a published revision is immutable.
     * Returns the revision that was in effect before, which the change impact compares with.
     */
    async publish(revisionId: string, by: string, scope: readonly string[] | 'all'): Promise<{ revision: TypeApprovalRevision; previousId: string | null }> {
      return db.$transaction(async (tx) => {
        const [locked] = await tx.$queryRaw<{ type_approval_id: string }[]>`SELECT type_approval_id FROM type_approval_revision WHERE id = ${revisionId}::uuid`;
        if (locked) await tx.$queryRaw`SELECT id FROM type_approval WHERE id = ${locked.type_approval_id}::uuid FOR UPDATE`;
        const row = locked ? await tx.typeApprovalRevision.findUnique({ where: { id: revisionId }, include: { typeApproval: true } }) : null;
        if (!row || !inScope(row.typeApproval.manufacturerId, scope)) throw new UnknownTypeApprovalError(`type-approval revision ${revisionId}`);
        if (row.status !== 'draft') throw new RefusedError('not_allowed_in_state', `revision ${row.sequence} of ${row.typeApproval.number} is already ${row.status}`);
        if (row.draftedBy.includes(by)) {
          throw new RefusedError(
            'four_eyes',
            `${by} drafted revision ${row.sequence} of ${row.typeApproval.number} and cannot also publish it: a second person (homologation or admin) who did not draft it must publish`,
          );
        }
        const previous = await tx.typeApprovalRevision.findFirst({
          where: { typeApprovalId: row.typeApprovalId, status: 'published' },
          orderBy: [{ effectiveDate: 'desc' }, { sequence: 'desc' }],
          select: { id: true },
        });
        const published = await tx.typeApprovalRevision.update({
          where: { id: revisionId },
          data: { status: 'published', publishedBy: by, publishedAt: new Date() },
          include: { typeApproval: true },
        });
        return { revision: revisionOf(published), previousId: previous?.id ?? null };
      });
    },

    /** Approvals of the given manufacturers, optionally filtered by number or type (case-insensitive). */
    async list(scope: readonly string[] | 'all', query: { q?: string | undefined; manufacturerId?: string | undefined } = {}): Promise<TypeApprovalSummary[]> {
      const manufacturers = scope === 'all' ? undefined : scope;
      const rows = await db.typeApproval.findMany({
        where: {
          ...(manufacturers ? { manufacturerId: { in: [...manufacturers] } } : {}),
          ...(query.manufacturerId ? { manufacturerId: query.manufacturerId } : {}),
          ...(query.q
            ? { OR: [{ number: { contains: query.q, mode: 'insensitive' } }, { revisions: { some: { type: { contains: query.q, mode: 'insensitive' } } } }] }
            : {}),
        },
        include: { revisions: { orderBy: { sequence: 'desc' }, include: { _count: { select: { versions: true } } } } },
        orderBy: [{ manufacturerId: 'asc' }, { number: 'asc' }],
        take: 500,
      });
      return rows.map((row) => {
        const newest = row.revisions[0]!;
        const published = row.revisions.find((revision) => revision.status === 'published');
        const draft = row.revisions.find((revision) => revision.status === 'draft');
        return {
          id: row.id,
          manufacturerId: row.manufacturerId,
          number: row.number,
          type: newest.type,
          vehicleCategory: newest.vehicleCategory,
          revisions: row.revisions.length,
          published: published
            ? { id: published.id, sequence: published.sequence, extensionNumber: published.extensionNumber, effectiveDate: isoDate(published.effectiveDate), publishedAt: published.publishedAt?.toISOString() ?? null }
            : null,
          draft: draft ? { id: draft.id, sequence: draft.sequence, extensionNumber: draft.extensionNumber, draftedBy: draft.draftedBy } : null,
          versions: (published ?? newest)._count.versions,
        };
      });
    },

    /** One approval with its revisions (newest first), without their values. */
    async get(typeApprovalId: string, scope: readonly string[] | 'all'): Promise<{ id: string; manufacturerId: string; number: string; revisions: TypeApprovalRevision[] }> {
      const row = /^[0-9a-f-]{36}$/i.test(typeApprovalId)
        ? await db.typeApproval.findUnique({ where: { id: typeApprovalId }, include: { revisions: { orderBy: { sequence: 'desc' }, include: { typeApproval: true } } } })
        : null;
      if (!row || !inScope(row.manufacturerId, scope)) throw new UnknownTypeApprovalError(`type approval ${typeApprovalId}`);
      return { id: row.id, manufacturerId: row.manufacturerId, number: row.number, revisions: row.revisions.map(revisionOf) };
    },

    /** A revision with its content. */
    async revision(revisionId: string, scope: readonly string[] | 'all'): Promise<RevisionContent> {
      return content(await loadRevision(revisionId, scope));
    },

    /** What changed from one revision to another of the same approval. */
    async diff(fromRevisionId: string, toRevisionId: string, scope: readonly string[] | 'all'): Promise<RevisionDiff & { from: TypeApprovalRevision; to: TypeApprovalRevision }> {
      const [from, to] = await Promise.all([loadRevision(fromRevisionId, scope).then(content), loadRevision(toRevisionId, scope).then(content)]);
      if (from.revision.typeApprovalId !== to.revision.typeApprovalId) throw new RefusedError('invalid', 'the two revisions belong to different type approvals');
      return { from: from.revision, to: to.revision, ...diffRevisions(from.approval, to.approval) };
    },

    /** The revision a vehicle built to number + variant + version is composed from on `at`, or null. */
    async effectiveRevisionId(key: TypeApprovalKey, at: Date = new Date()): Promise<string | null> {
      const row = await effectiveRevision(key.manufacturerId, key.number, at);
      if (!row) return null;
      const version = await db.typeApprovalVersion.findUnique({ where: { revisionId_variant_version: { revisionId: row.id, variant: key.variant, version: key.version } }, select: { id: true } });
      return version ? row.id : null;
    },

    /** The approved values of one version in one revision (what a data version was composed from). */
    async revisionVersionValues(revisionId: string, variant: string, version: string): Promise<ApprovedVersionValues | null> {
      const row = await db.typeApprovalRevision.findUnique({ where: { id: revisionId }, include: { typeApproval: true } });
      return row ? versionValues(row, variant, version) : null;
    },

    /** The approved values in effect now for a vehicle built to number + variant + version, or null if unknown. */
    async findVersionValues(key: TypeApprovalKey, at: Date = new Date()): Promise<ApprovedVersionValues | null> {
      const row = await effectiveRevision(key.manufacturerId, key.number, at);
      return row ? versionValues(row, key.variant, key.version) : null;
    },
  };
}

function inScope(manufacturerId: string, scope: readonly string[] | 'all' | undefined): boolean {
  return scope === undefined || scope === 'all' || scope.includes(manufacturerId);
}

export type TypeApprovalRepository = ReturnType<typeof createTypeApprovalRepository>;
