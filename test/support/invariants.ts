import type { Client } from '@temporalio/client';
import { verifyAuditTrail } from '../../audit/trail.ts';
import { DELIVERY_RECEIPT_KINDS } from '../../connectors/delivery/channel.ts';
import type { Database } from '../../platform/database/prisma.ts';
import type { CertificateStatus } from '../../schemas/certificate.ts';
import type { Config } from '../../schemas/config/index.ts';
import { verifyIvi } from '../../signing/verify-ivi.ts';
import type { NapHandle } from './lifecycle.ts';
import { readPackages } from './release.ts';

/**
 * The invariants every chaos scenario ends with (issue 18), checked against the destinations'
 * own state (the NAP simulator, the partner's files), not only against our records:
 *
 * - no certificate is stuck in a machine state: each is terminal or waits on a person (or a
 *   release run, or a partner's acknowledgement);
 * - every delivered message reached its destination exactly once, and every message a
 *   destination holds is recorded as delivered;
 * - nothing is marked signed without a signature that verifies with the signing certificate;
 * - the audit trail verifies;
 * - no accepted input is lost: every certificate the scenario's ingest accepted exists.
 */

/** States a certificate may rest in: a person (review, correction, release) or a partner must act next, or it is over. */
export const SETTLED_STATUSES: readonly CertificateStatus[] = ['blocked', 'in_review', 'rejected', 'awaiting_release', 'delivered', 'acknowledged', 'withdrawn', 'failed'];

/** States that claim a verified signature on the current message. */
const SIGNED_STATUSES: readonly CertificateStatus[] = ['signed', 'awaiting_release', 'delivering', 'delivered', 'acknowledged'];

export interface InvariantScope {
  db: Database;
  /** Certificate ids the scenario's inputs were accepted as. */
  accepted: readonly string[];
  /** The certificate every signature must verify with. */
  signingCertificatePem: string;
  /** NAP simulators by destination id: their received messages are the truth for NAP deliveries. */
  naps?: ReadonlyMap<string, Pick<NapHandle, 'received'>>;
  /** SFTP partners' inbound directories by destination id: their packages are the truth for SFTP deliveries. */
  partners?: ReadonlyMap<string, string>;
  /** The audit trail is verified as `ecoc audit verify` does (with the witness workflow when `client` is given). */
  audit: { config: Config; client?: Client | undefined };
}

export interface InvariantReport {
  certificates: number;
  byStatus: Record<string, number>;
  /** Messages that reached their destination exactly once and are recorded so. */
  deliveredOnce: number;
  /** `destination vin vN`: a message version the destination received more than once. */
  duplicated: string[];
  /** A receipt whose message the destination does not hold. */
  lost: string[];
  /** A message the destination holds without a receipt here. */
  unrecorded: string[];
  /** Certificates in a machine state. */
  stuck: string[];
  /** Messages marked signed whose signature does not verify, or signed states without a signed message. */
  unverified: string[];
  /** Accepted certificate ids with no certificate. */
  missing: string[];
  auditOk: boolean;
  auditProblems: string[];
  /** Every broken invariant, one line each; empty when all hold. */
  violations: string[];
}

/** One message as a destination holds it. */
interface Held {
  vin: string;
  iviReferenceId: string;
  version: number;
}

export async function checkInvariants(scope: InvariantScope): Promise<InvariantReport> {
  const { db } = scope;
  const certificates = await db.certificate.findMany({ where: { id: { in: [...scope.accepted] } }, select: { id: true, vin: true, status: true, messageVersion: true } });
  const found = new Set(certificates.map((c) => c.id));
  const missing = scope.accepted.filter((id) => !found.has(id));
  const byStatus: Record<string, number> = {};
  for (const certificate of certificates) byStatus[certificate.status] = (byStatus[certificate.status] ?? 0) + 1;
  const stuck = certificates.filter((c) => !SETTLED_STATUSES.includes(c.status as CertificateStatus)).map((c) => `${c.id} is ${c.status}`);

  const ids = certificates.map((c) => c.id);
  const messages = await db.certificateMessage.findMany({ where: { certificateId: { in: ids } }, select: { iviReferenceId: true, certificateId: true, messageVersion: true, signedXml: true } });
  const unverified: string[] = [];
  for (const message of messages) {
    if (!message.signedXml) continue;
    const verification = verifyIvi(Buffer.from(message.signedXml).toString('utf8'), scope.signingCertificatePem);
    if (!verification.valid) unverified.push(`${message.iviReferenceId}: ${verification.problems.join('; ')}`);
  }
  for (const certificate of certificates.filter((c) => SIGNED_STATUSES.includes(c.status as CertificateStatus))) {
    const current = messages.find((m) => m.certificateId === certificate.id && m.messageVersion === certificate.messageVersion);
    if (!current?.signedXml) unverified.push(`${certificate.id} is ${certificate.status} without a signed message v${certificate.messageVersion}`);
  }

  const receipts = await db.deliveryReceipt.findMany({ where: { certificateId: { in: ids }, kind: { in: [...DELIVERY_RECEIPT_KINDS] } } });
  const vinOf = new Map(certificates.map((c) => [c.id, c.vin]));
  const duplicated: string[] = [];
  const lost: string[] = [];
  const unrecorded: string[] = [];
  let deliveredOnce = 0;
  for (const [destination, held] of await heldByDestination(scope, certificates.map((c) => c.vin))) {
    const copies = new Map<string, number>();
    for (const message of held) copies.set(`${message.vin} v${message.version}`, (copies.get(`${message.vin} v${message.version}`) ?? 0) + 1);
    duplicated.push(...[...copies].filter(([, count]) => count > 1).map(([key, count]) => `${destination} ${key} received ${count} times`));
    const heldIds = new Set(held.map((message) => message.iviReferenceId));
    const recorded = receipts.filter((receipt) => receipt.destination === destination);
    const recordedIds = new Set(recorded.map((receipt) => receipt.iviReferenceId));
    for (const receipt of recorded) {
      if (!heldIds.has(receipt.iviReferenceId)) lost.push(`${destination} has no ${receipt.iviReferenceId} (VIN ${vinOf.get(receipt.certificateId)}) though it is recorded as delivered`);
      else if (copies.get(`${vinOf.get(receipt.certificateId)} v${receipt.messageVersion}`) === 1) deliveredOnce += 1;
    }
    unrecorded.push(...held.filter((message) => !recordedIds.has(message.iviReferenceId)).map((m) => `${destination} holds ${m.iviReferenceId} (VIN ${m.vin}) without a receipt`));
  }

  const audit = await verifyAuditTrail({ db, config: scope.audit.config, client: scope.audit.client, skipWitnessWorkflow: scope.audit.client === undefined });
  const auditProblems = audit.problems.map((problem) => `${problem.kind}${problem.chain ? ` in ${problem.chain}` : ''}${problem.seq !== undefined ? ` at ${problem.seq}` : ''}`);

  const violations = [
    ...missing.map((id) => `accepted input lost: ${id}`),
    ...stuck.map((line) => `stuck: ${line}`),
    ...unverified.map((line) => `unverified signature: ${line}`),
    ...duplicated.map((line) => `duplicated: ${line}`),
    ...lost.map((line) => `lost: ${line}`),
    ...unrecorded.map((line) => `unrecorded: ${line}`),
    ...(audit.ok ? [] : [`audit trail does not verify: ${auditProblems.join(', ')}`]),
  ];
  return { certificates: certificates.length, byStatus, deliveredOnce, duplicated, lost, unrecorded, stuck, unverified, missing, auditOk: audit.ok, auditProblems, violations };
}

/** Checks every invariant and fails with all broken ones at once; the report is the scenario's figures. */
export async function assertInvariants(scope: InvariantScope): Promise<InvariantReport> {
  const report = await checkInvariants(scope);
  if (report.violations.length > 0) throw new Error(`${report.violations.length} invariant(s) broken:\n${report.violations.join('\n')}`);
  return report;
}

/** What each destination holds for these VINs, read from the destination itself. */
async function heldByDestination(scope: InvariantScope, vins: readonly string[]): Promise<Map<string, Held[]>> {
  const held = new Map<string, Held[]>();
  for (const [destination, nap] of scope.naps ?? []) {
    const states = await Promise.all(vins.map(async (vin) => ({ vin, state: await nap.received(vin) })));
    held.set(
      destination,
      states.flatMap(({ vin, state }) => (state?.messages ?? []).map((m) => ({ vin, iviReferenceId: m.iviReferenceId, version: m.iviVersionNumber }))),
    );
  }
  const wanted = new Set(vins);
  for (const [destination, dir] of scope.partners ?? []) {
    const packages = await readPackages(dir);
    held.set(
      destination,
      packages.flatMap((p) => p.manifest.files.filter((file) => wanted.has(file.vin)).map((file) => ({ vin: file.vin, iviReferenceId: file.iviReferenceId, version: file.iviVersionNumber }))),
    );
  }
  return held;
}
