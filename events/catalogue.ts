import type { Prisma } from '../.generated/prisma/client.ts';
import type { EventType } from '../schemas/events.ts';
import { SYSTEM } from '../workflows/certificate/state.ts';

/**
 * Which audit records are events, and what each event says. The outbox row is written by the
 * audit append (audit/chain.ts) in the transaction that writes the record, keyed by the record's
 * entry key: a retried step finds its record, and so its event, already there.
 */

/** Audit actions written only to record an occurrence that is an event (the workflow's own entries are mapped as they are). */
export const eventActions = {
  deliveryRejected: 'delivery_rejected',
  signingCertificateExpiring: 'signing_certificate_expiring',
  releaseRunFinished: 'release_run_finished',
} as const;

/** An audit record as the chain appends it (structurally audit/chain.ts AuditRecordInput). */
export interface AuditOccurrence {
  entryKey: string | null;
  occurredAt: Date;
  actor: string;
  action: string;
  certificateId: string | null;
  detail: Record<string, unknown>;
}

type Tx = Prisma.TransactionClient;

/**
 * A destination refused a message: at delivery (a NAP's rejection) or afterwards (an SFTP
 * partner's verdict in its acknowledgement). `key` names the occurrence (the package and message,
 * or the receipt), so a retried step records it once.
 */
export function deliveryRejectedRecord(input: {
  key: string;
  certificateId: string;
  destination: string;
  iviReferenceId: string;
  messageVersion: number;
  phase: 'delivery' | 'acknowledgement';
  code: string | null;
  reason: string;
  batchId: string | null;
  reference: string | null;
}): AuditOccurrence {
  const { key, certificateId, ...detail } = input;
  return { entryKey: `delivery-rejected:${key}`, occurredAt: new Date(), actor: SYSTEM, action: eventActions.deliveryRejected, certificateId, detail };
}

export function eventTypeOf(record: AuditOccurrence): EventType | undefined {
  const from = record.detail.fromStatus;
  switch (record.action) {
    case 'review_escalated':
      return 'review.escalated';
    // The workflow rejects on its own only when the review deadline passes; a person's rejection names the person.
    case 'status:rejected':
      return from === 'in_review' && record.actor === SYSTEM ? 'review.expired' : undefined;
    case 'status:blocked':
      return 'certificate.blocked';
    // A batch reported the delivery as failed for good (or the legacy single delivery failed): someone must retry.
    case 'status:failed':
      return from === 'delivering' ? 'delivery.failed' : undefined;
    case 'status:acknowledged':
      return 'acknowledgement.received';
    case eventActions.deliveryRejected:
      return 'delivery.rejected';
    case eventActions.signingCertificateExpiring:
      return 'signing_certificate.expiring';
    case eventActions.releaseRunFinished:
      return 'release_run.finished';
    default:
      return undefined;
  }
}

/** Writes one outbox event per event-worthy record (records without an entry key are one-off API actions, never events). */
export async function enqueueEvents(tx: Tx, records: readonly AuditOccurrence[]): Promise<void> {
  const events = records.flatMap((record) => {
    const type = eventTypeOf(record);
    return type && record.entryKey ? [{ record, type, id: record.entryKey }] : [];
  });
  if (events.length === 0) return;
  const certificateIds = [...new Set(events.flatMap(({ record }) => (record.certificateId ? [record.certificateId] : [])))];
  const certificates = new Map((await tx.certificate.findMany({ where: { id: { in: certificateIds } } })).map((row) => [row.id, row]));
  const rows: Prisma.WebhookEventCreateManyInput[] = [];
  for (const { record, type, id } of events) {
    const row = record.certificateId ? certificates.get(record.certificateId) : undefined;
    const specific = await specificData(tx, type, record);
    const data = row
      ? {
          certificateId: row.id,
          vin: row.vin,
          stage: row.stage,
          manufacturerId: row.manufacturerId,
          typeApprovalNumber: row.typeApprovalNumber,
          destination: row.destination,
          status: typeof record.detail.toStatus === 'string' ? record.detail.toStatus : row.status,
          owner: row.owner,
          dataVersion: numberOr(record.detail.dataVersion, row.dataVersion),
          messageVersion: numberOr(record.detail.messageVersion, row.messageVersion),
          actor: record.actor,
          ...specific,
        }
      : specific;
    rows.push({ id, type, occurredAt: record.occurredAt, certificateId: row?.id ?? null, manufacturerId: row?.manufacturerId ?? null, data: data as Prisma.InputJsonValue });
  }
  await tx.webhookEvent.createMany({ data: rows, skipDuplicates: true });
}

/** What each event adds to the certificate it is about (hub events: the record's detail as written for them). */
async function specificData(tx: Tx, type: EventType, record: AuditOccurrence): Promise<Record<string, unknown>> {
  const { detail } = record;
  switch (type) {
    case 'review.escalated':
      return { previousOwner: detail.from ?? null, owner: detail.to ?? null };
    case 'review.expired':
    case 'delivery.failed':
      return { reason: detail.note ?? null };
    case 'certificate.blocked': {
      const version = await tx.certificateDataVersion.findUnique({
        where: { certificateId_version: { certificateId: record.certificateId!, version: numberOr(detail.dataVersion, 0) } },
        select: { findings: true },
      });
      const findings = (version?.findings ?? []) as { ruleId: string; path: string; message: string; severity: string; owner: string }[];
      return { findings: findings.filter((finding) => finding.severity === 'error').map(({ ruleId, path, message, owner }) => ({ ruleId, path, message, owner })) };
    }
    case 'acknowledgement.received': {
      const receipt = await tx.deliveryReceipt.findFirst({
        where: { certificateId: record.certificateId!, messageVersion: numberOr(detail.messageVersion, 0) },
        orderBy: { deliveredAt: 'desc' },
        select: { destination: true, reference: true, deliveredAt: true },
      });
      return { receipt: receipt ? { destination: receipt.destination, reference: receipt.reference, deliveredAt: receipt.deliveredAt.toISOString() } : null };
    }
    case 'delivery.rejected':
    case 'signing_certificate.expiring':
    case 'release_run.finished':
      return detail;
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
