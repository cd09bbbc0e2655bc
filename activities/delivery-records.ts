import { randomUUID } from 'node:crypto';
import type { NapReceipt, PackageOutcome, SignedIviMessage } from '../connectors/delivery/channel.ts';
import type { Database } from '../platform/database/prisma.ts';

type Tx = Parameters<Parameters<Database['$transaction']>[0]>[0];

export type StoredSignedMessage = SignedIviMessage & { certificateId: string };

/** What a destination answered for one message, as kept in `delivery_receipt`. */
export interface DeliveryRecord {
  certificateId: string;
  iviReferenceId: string;
  messageVersion: number;
  destination: string;
  kind: 'nap_receipt' | 'sftp_package';
  reference: string;
  at: string;
  /** NAP receipts acknowledge at once; SFTP partners acknowledge later with a file. */
  acknowledged: boolean;
  batchId?: string | undefined;
  detail: object;
}

/** Signed messages by IVI reference id, bytes exactly as stored; absent when unknown or not signed. */
export async function findSignedMessages(db: Database, iviReferenceIds: readonly string[]): Promise<Map<string, StoredSignedMessage>> {
  const rows = await db.certificateMessage.findMany({
    where: { iviReferenceId: { in: [...iviReferenceIds] } },
    include: { certificate: { select: { vin: true } } },
  });
  const messages = new Map<string, StoredSignedMessage>();
  for (const row of rows) {
    if (!row.signedXml) continue;
    messages.set(row.iviReferenceId, { certificateId: row.certificateId, vin: row.certificate.vin, iviReferenceId: row.iviReferenceId, iviVersionNumber: row.messageVersion, xml: new Uint8Array(row.signedXml) });
  }
  return messages;
}

export async function loadSignedMessage(db: Database, iviReferenceId: string): Promise<StoredSignedMessage> {
  const message = (await findSignedMessages(db, [iviReferenceId])).get(iviReferenceId);
  if (!message) throw new UnsignedMessageError(`message ${iviReferenceId} is unknown or not signed; only signed messages are delivered`);
  return message;
}

/** Retrying cannot sign a message; `retryable: false` makes activities fail it for good. */
export class UnsignedMessageError extends Error {
  override name = 'UnsignedMessageError';
  readonly retryable = false;
}

export function napDeliveryRecord(message: StoredSignedMessage, destination: string, receipt: NapReceipt, batchId?: string): DeliveryRecord {
  return {
    certificateId: message.certificateId,
    iviReferenceId: message.iviReferenceId,
    messageVersion: message.iviVersionNumber,
    destination,
    kind: 'nap_receipt',
    reference: receipt.receiptId,
    at: receipt.receivedAt,
    acknowledged: true,
    batchId,
    detail: receipt,
  };
}

export function sftpDeliveryRecord(
  message: StoredSignedMessage,
  destination: string,
  outcome: Extract<PackageOutcome, { sha256: string }>,
  at: string,
  batchId?: string,
): DeliveryRecord {
  return {
    certificateId: message.certificateId,
    iviReferenceId: message.iviReferenceId,
    messageVersion: message.iviVersionNumber,
    destination,
    kind: 'sftp_package',
    reference: outcome.packageName,
    at,
    acknowledged: false,
    batchId,
    detail: { ...outcome, file: `${message.vin}_v${message.iviVersionNumber}.xml` },
  };
}

/**
 * Stores receipts once per (message, destination, kind): a retried delivery that got the same
 * answer (NAP replay, package already there) keeps the first row, so callers read back the stored
 * reference rather than trusting the retry's.
 */
export async function recordDeliveries(tx: Tx | Database, records: readonly DeliveryRecord[]): Promise<void> {
  if (records.length === 0) return;
  await tx.deliveryReceipt.createMany({
    skipDuplicates: true,
    data: records.map((record) => ({
      id: randomUUID(),
      certificateId: record.certificateId,
      iviReferenceId: record.iviReferenceId,
      messageVersion: record.messageVersion,
      destination: record.destination,
      kind: record.kind,
      reference: record.reference,
      batchId: record.batchId ?? null,
      detail: record.detail,
      deliveredAt: new Date(record.at),
      acknowledgedAt: record.acknowledged ? new Date(record.at) : null,
    })),
  });
}
