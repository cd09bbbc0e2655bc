import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Prisma } from '../.generated/prisma/client.ts';
import { RefusedError, requirePermission } from '../auth/permissions.ts';
import { importVecto, vectoImportSchema, type TypeApprovalValues, type VectoFinding, type VectoImport, type VectoProposal } from '../connectors/vecto/import.ts';
import { composeCertificateData, CompositionError, type Correction } from '../ivi/compose.ts';
import { createTypeApprovalRepository, type ApprovedVersionValues } from '../ivi/type-approvals/repository.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { CocDataGroupValues } from '../schemas/ivi/index.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import { certificateWorkflowId, correctUpdate, statusQuery } from '../workflows/certificate/definitions.ts';
import type { Actor } from '../schemas/certificate.ts';
import { loadCertificateData } from './certificate-data.ts';
import { authorsOfVersion, storeCorrections } from './store.ts';

/**
 * VECTO results for a certificate: an import checks the CIF/MRF pair and stores what it proposes
 * (`vecto_import`); nothing changes on the certificate until a homologation engineer confirms
 * proposals, which become corrections with source `vecto` in a new data version.
 */

/** A stored import, as the API returns it. */
export const vectoImportRecordSchema = vectoImportSchema.extend({
  id: z.uuid(),
  certificateId: z.string(),
  status: z.enum(['proposed', 'confirmed']),
  importedBy: z.string(),
  importedAt: z.iso.datetime(),
  files: z.object({ cifSha256: z.string(), mrfSha256: z.string() }),
  confirmation: z.object({ by: z.string(), at: z.iso.datetime(), paths: z.array(z.string()), dataVersion: z.number().int() }).optional(),
});
export type VectoImportRecord = z.infer<typeof vectoImportRecordSchema>;

/**
 * Why an import or confirmation was refused: a RefusedError (auth/permissions.ts) whose `kind`
 * is `not_found`, `not_allowed_in_state` (hash check or identity failed, confirmed meanwhile) or
 * `invalid` (proposal paths); role refusals are the plain RefusedError of `requirePermission`.
 */
export class VectoRefusedError extends RefusedError {
  override name = 'VectoRefusedError';
}

export type VectoCertificateRef = { certificateId: string } | { vin: string; stage: number };

export type ImportVectoRequest = VectoCertificateRef & {
  cif: string | Uint8Array;
  mrf: string | Uint8Array;
  actor: Actor;
  /** Which CIF result summary applies when it has vocational and non-vocational ones. */
  vocational?: boolean;
  /** `ECOC_XML_MAX_BYTES`. */
  maxBytes?: number;
};

export interface ConfirmVectoRequest {
  importId: string;
  /** The proposals to accept (their `path`); all of them when omitted. */
  proposalPaths?: string[];
  actor: Actor;
  reason?: string;
}

/**
 * Imports a CIF + MRF pair for a certificate: the hash relation check, proposals and the
 * cross-check against the certificate's type approval (when it is in the master data). The same
 * pair imported again returns the stored import. Throws VectoVersionError / VectoFormatError
 * (connectors/vecto/read.ts) for files it cannot read, a RefusedError otherwise.
 */
export async function importVectoForCertificate(db: Database, request: ImportVectoRequest): Promise<VectoImportRecord> {
  requirePermission(request.actor, 'vecto.import', 'import VECTO results');
  const certificateId = 'certificateId' in request ? request.certificateId : certificateWorkflowId(request.vin, request.stage);
  const certificate = await db.certificate.findUnique({ where: { id: certificateId } });
  if (!certificate) throw new VectoRefusedError('not_found', `no certificate ${certificateId}`);
  const files = { cifSha256: sha256(request.cif), mrfSha256: sha256(request.mrf) };
  const existing = await db.vectoImport.findUnique({ where: { certificateId_cifSha256_mrfSha256: { certificateId, ...files } } });
  if (existing) return toRecord(existing);

  const latest = await db.certificateDataVersion.findFirstOrThrow({ where: { certificateId }, orderBy: { version: 'desc' } });
  const record = latest.record as unknown as VehicleRecord;
  // Cross-checked against the revision the certificate's data is composed from.
  const approved = latest.typeApprovalRevisionId
    ? await createTypeApprovalRepository(db).revisionVersionValues(latest.typeApprovalRevisionId, record.variant, record.version)
    : null;
  const result = importVecto(
    { cif: request.cif, mrf: request.mrf },
    { ...(approved ? { typeApproval: typeApprovalValues(approved) } : {}), ...(request.vocational !== undefined ? { vocational: request.vocational } : {}), ...(request.maxBytes ? { maxBytes: request.maxBytes } : {}) },
  );
  const findings: VectoFinding[] = [...result.findings];
  if (result.vin !== certificate.vin) {
    findings.push({ severity: 'error', code: 'CERTIFICATE_VIN_MISMATCH', message: `the VECTO files are for VIN "${result.vin}", the certificate for ${certificate.vin}` });
  }
  if (!approved) {
    findings.push({ severity: 'info', code: 'TYPE_APPROVAL_UNKNOWN', message: `${record.typeApprovalNumber} ${record.variant}/${record.version} is not in the master data: no type-approval cross-check` });
  }
  const row = await db.vectoImport.upsert({
    where: { certificateId_cifSha256_mrfSha256: { certificateId, ...files } },
    create: {
      certificateId,
      vin: result.vin,
      ...files,
      cif: bytes(request.cif),
      mrf: bytes(request.mrf),
      versions: result.versions,
      hashMatches: result.hashCheck.matches,
      hashCheck: result.hashCheck,
      proposals: result.proposals as unknown as Prisma.InputJsonValue,
      crossChecks: result.crossChecks as unknown as Prisma.InputJsonValue,
      findings: findings as unknown as Prisma.InputJsonValue,
      importedBy: request.actor.id,
    },
    update: {},
  });
  return toRecord(row);
}

/**
 * Accepts proposals of an import: they become corrections (source `vecto`) in a new data
 * version, which the certificate workflow receives as a correction (so it is validated and
 * reviewed again). Only homologation (or admin) confirms, and never an import whose hash check
 * or identity failed. Confirming again returns the confirmed import; if the workflow missed the
 * correction (a crash in between), it is sent again.
 */
export async function confirmVectoProposals(db: Database, client: Client, request: ConfirmVectoRequest): Promise<VectoImportRecord> {
  requirePermission(request.actor, 'vecto.confirm', 'confirm VECTO proposals');
  const row = z.uuid().safeParse(request.importId).success ? await db.vectoImport.findUnique({ where: { id: request.importId } }) : null;
  if (!row) throw new VectoRefusedError('not_found', `no VECTO import ${request.importId}`);
  const stored = toRecord(row);
  const reason = request.reason?.trim() || `VECTO import ${row.id} confirmed`;
  if (row.dataVersion !== null && row.dataHash !== null) {
    await sendCorrection(db, client, row.certificateId, request.actor, { dataVersion: row.dataVersion, dataHash: row.dataHash }, reason);
    return stored;
  }
  const errors = stored.findings.filter((finding) => finding.severity === 'error');
  if (!stored.hashCheck.matches || errors.length > 0) {
    throw new VectoRefusedError('not_allowed_in_state', `VECTO import ${row.id} cannot be confirmed: ${errors.map((e) => `${e.code} (${e.message})`).join('; ') || 'the hash check failed'}`);
  }
  const selected = selectProposals(stored.proposals, request.proposalPaths);

  const latest = await db.certificateDataVersion.findFirstOrThrow({ where: { certificateId: row.certificateId }, orderBy: { version: 'desc' }, select: { version: true } });
  const current = await loadCertificateData(db, row.certificateId, latest.version);
  const corrections = proposalCorrections(current.values, selected, { by: request.actor.id, at: new Date().toISOString(), reason });
  const version = await storeCorrections(db, row.certificateId, corrections, { submittedBy: request.actor.id, reason });
  const confirmed = await db.vectoImport.updateMany({
    where: { id: row.id, confirmedAt: null },
    data: { confirmedBy: request.actor.id, confirmedAt: new Date(), confirmedPaths: selected.map((p) => p.path), dataVersion: version.dataVersion, dataHash: version.dataHash },
  });
  if (confirmed.count === 0) throw new VectoRefusedError('not_allowed_in_state', `VECTO import ${row.id} was confirmed by someone else meanwhile`);
  await sendCorrection(db, client, row.certificateId, request.actor, version, reason);
  return toRecord(await db.vectoImport.findUniqueOrThrow({ where: { id: row.id } }));
}

async function sendCorrection(db: Database, client: Client, certificateId: string, actor: Actor, version: { dataVersion: number; dataHash: string }, reason: string): Promise<void> {
  const handle = client.workflow.getHandle(certificateId);
  const state = await handle.query(statusQuery);
  if (state.dataVersion >= version.dataVersion) return;
  const authors = await authorsOfVersion(db, certificateId, version.dataVersion);
  await handle.executeUpdate(correctUpdate, { args: [{ actor, dataVersion: version.dataVersion, dataHash: version.dataHash, reason, authors }] });
}

function selectProposals(proposals: VectoProposal[], paths: string[] | undefined): VectoProposal[] {
  if (paths === undefined) return proposals;
  const unknown = paths.filter((path) => !proposals.some((p) => p.path === path));
  if (unknown.length > 0) throw new VectoRefusedError('invalid', `not proposed by this import: ${unknown.join(', ')}; proposals: ${proposals.map((p) => p.path).join(', ')}`);
  const selected = proposals.filter((p) => paths.includes(p.path));
  if (selected.length === 0) throw new VectoRefusedError('invalid', 'no proposals selected');
  return selected;
}

type Part = { name: string; index?: number };
type Json = Record<string, unknown>;

/**
 * Proposal paths (`A.B[0].C`, 0-based like ERP mappings) as correction paths (`A/B[1]/C`,
 * 1-based). An entry the data does not have yet (a second energy source) is added whole at the
 * first missing index, because a correction cannot reach below a missing table row.
 */
function proposalCorrections(values: CocDataGroupValues, proposals: VectoProposal[], meta: { by: string; at: string; reason: string }): Correction[] {
  let working = values;
  return proposals.map((proposal) => {
    const parts = proposal.path.split('.').map((text): Part => {
      const match = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?$/.exec(text);
      if (!match) throw new VectoRefusedError('invalid', `proposal path ${proposal.path}: "${text}" is not an element name`);
      return match[2] === undefined ? { name: match[1]! } : { name: match[1]!, index: Number(match[2]) };
    });
    const path: string[] = [];
    let node: unknown = working;
    let cut = parts.length;
    for (const [position, part] of parts.entries()) {
      const child = (node as Json | undefined)?.[part.name];
      if (part.index === undefined) {
        path.push(part.name);
        node = child;
        continue;
      }
      path.push(`${part.name}[${part.index + 1}]`);
      if (!Array.isArray(child) || child[part.index] === undefined) {
        cut = position;
        break;
      }
      node = child[part.index];
    }
    const value = cut === parts.length ? proposal.value : nested(parts.slice(cut + 1), proposal.value, proposal.path);
    const correction: Correction = { path: path.join('/'), value, by: meta.by, at: meta.at, reason: `${meta.reason}: ${proposal.origin}`, source: 'vecto' };
    try {
      working = composeCertificateData({ typeApprovalValues: working, vehicleValues: [], corrections: [correction] }).values;
    } catch (error) {
      if (error instanceof CompositionError) throw new VectoRefusedError('invalid', `proposal ${proposal.path} does not fit the certificate data: ${error.message}`);
      throw error;
    }
    return correction;
  });
}

/** The value for a new table row: `[EnergySource]` + '40' → `{ EnergySource: '40' }`. */
function nested(parts: Part[], value: unknown, path: string): unknown {
  return parts.reduceRight<unknown>((inner, part) => {
    if (part.index !== undefined && part.index !== 0) throw new VectoRefusedError('invalid', `proposal ${path}: entry ${part.index + 1} of ${part.name} cannot be added before entry 1`);
    return { [part.name]: part.index === undefined ? inner : [inner] };
  }, value);
}

/** What VECTO's values are compared with: the approval's category and the version's values. */
function typeApprovalValues(approved: ApprovedVersionValues): TypeApprovalValues {
  const values = approved.values as Json;
  const group = (values.VectoGroup as Json | undefined)?.VehicleGroup;
  const mass = (values.MassGroup as Json | undefined)?.TechnicallyPermissibleMaximumLadenMass;
  const convertors = ((values.EnergyConvertorTable as Json | undefined)?.EnergyConvertorGroup ?? []) as Json[];
  const sources = convertors.flatMap((convertor) => (((convertor.EnergySourceTable as Json | undefined)?.EnergySourceGroup ?? []) as Json[]).map((source) => source.EnergySource));
  const energySources = [...new Set(sources.filter((source): source is string => typeof source === 'string'))];
  return {
    vehicleCategory: approved.approval.vehicleCategory,
    ...(typeof group === 'string' ? { vehicleGroup: group } : {}),
    ...(typeof mass === 'number' ? { technicallyPermissibleMaximumLadenMass: mass } : {}),
    ...(energySources.length > 0 ? { energySources } : {}),
  };
}

function toRecord(row: {
  id: string;
  certificateId: string;
  vin: string;
  cifSha256: string;
  mrfSha256: string;
  versions: unknown;
  hashCheck: unknown;
  proposals: unknown;
  crossChecks: unknown;
  findings: unknown;
  importedBy: string;
  importedAt: Date;
  confirmedBy: string | null;
  confirmedAt: Date | null;
  confirmedPaths: unknown;
  dataVersion: number | null;
}): VectoImportRecord {
  const imported = { vin: row.vin, versions: row.versions, hashCheck: row.hashCheck, proposals: row.proposals, crossChecks: row.crossChecks, findings: row.findings } as VectoImport;
  return vectoImportRecordSchema.parse({
    ...imported,
    id: row.id,
    certificateId: row.certificateId,
    status: row.confirmedAt ? 'confirmed' : 'proposed',
    importedBy: row.importedBy,
    importedAt: row.importedAt.toISOString(),
    files: { cifSha256: row.cifSha256, mrfSha256: row.mrfSha256 },
    ...(row.confirmedAt && row.confirmedBy && row.dataVersion !== null
      ? { confirmation: { by: row.confirmedBy, at: row.confirmedAt.toISOString(), paths: row.confirmedPaths as string[], dataVersion: row.dataVersion } }
      : {}),
  });
}

const bytes = (input: string | Uint8Array) => (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input));
const sha256 = (input: string | Uint8Array) => createHash('sha256').update(bytes(input)).digest('hex');
