import type { TemporarilyUnavailableError } from './errors.ts';

/**
 * The one interface delivery activities talk to, whatever the destination is: a National Access
 * Point (one SOAP call per message, withdrawal by VIN, receipt at once) or an SFTP partner (one
 * zip package per batch, acknowledged later by a file from the partner) or a local archive folder
 * (one file per message, the embedded default). Activities never ask
 * which; the channel for a destination comes from `createDeliveryChannel`.
 *
 * - `rejected` is final: sending the same bytes again cannot succeed (reason code + message).
 * - `unavailable` (per message) means the destination was away for that message only, while
 *   others went through: the caller stores what was delivered, then throws the error so
 *   Temporal's retry policy tries again. An outage that stops the whole call (an SFTP server that
 *   is down) is thrown as `TemporarilyUnavailableError`; `PermanentConnectorError` is final.
 */

/** A signed message exactly as stored: the bytes are sent as they are, never re-serialised. */
export interface SignedIviMessage {
  vin: string;
  iviReferenceId: string;
  iviVersionNumber: number;
  xml: Uint8Array;
}

/** What one `deliver` call sends. A retry passes the same `packageId` and `createdAt`. */
export interface DeliveryBatch {
  /** Chosen by the caller and stable across retries; SFTP names the package file after it. */
  packageId: string;
  /** Part of an SFTP manifest; fixed by the caller so a retried build yields the same bytes. */
  createdAt: string;
  messages: readonly SignedIviMessage[];
}

/** Kinds of `delivery_receipt` rows a delivery writes (one per message, destination and kind). */
export const DELIVERY_RECEIPT_KINDS = ['nap_receipt', 'sftp_package', 'archive_file'] as const;
export type DeliveryReceiptKind = (typeof DELIVERY_RECEIPT_KINDS)[number];

/** What to store about an answer from the destination (a `delivery_receipt` row). */
export interface DestinationReceipt<Kind extends string = DeliveryReceiptKind> {
  kind: Kind;
  /** The destination's reference: a NAP receipt id, an SFTP package file name. */
  reference: string;
  /** ISO instant of delivery. */
  at: string;
  /** True when delivery is its own acknowledgement; false when `fetchAcknowledgement(batch.packageId)` brings it later. */
  acknowledged: boolean;
  /** Kept as JSON with the receipt. */
  detail: object;
}

export interface Rejection {
  status: 'rejected';
  code: string;
  message: string;
}

export type DeliveryOutcome = { iviReferenceId: string } & (
  | { status: 'delivered'; receipt: DestinationReceipt }
  | Rejection
  | { status: 'unavailable'; error: TemporarilyUnavailableError }
);

export type WithdrawalOutcome =
  | { status: 'withdrawn'; receipt: DestinationReceipt<'nap_withdrawal' | 'archive_withdrawal'> }
  /** The destination has no withdrawal (SFTP partners); `reference` says so where a receipt would be. */
  | { status: 'not_notified'; reference: string }
  | Rejection;

/** A partner's verdict on one package: one entry per file of the package. */
export interface PackageAcknowledgement {
  packageId: string;
  receivedAt: string;
  files: { name: string; status: 'accepted' | 'rejected'; code?: string | undefined; reason?: string | undefined }[];
}

export type AcknowledgementOutcome =
  | { status: 'pending'; packageName: string }
  | { status: 'acknowledged'; packageName: string; acknowledgement: PackageAcknowledgement }
  /** Deliveries to this destination are acknowledged on delivery: there is nothing to fetch. */
  | { status: 'not_applicable' };

export interface DeliverOptions {
  /** Called after each message is settled (activities heartbeat from it). */
  onProgress?: (() => void) | undefined;
}

export interface DeliveryChannel {
  readonly destinationId: string;
  /** For plans and logs only; callers do not branch on it. */
  readonly kind: 'nap' | 'sftp' | 'archive';
  /** One outcome per message of the batch, in batch order. A correction is the next version of the same VIN. */
  deliver(batch: DeliveryBatch, options?: DeliverOptions): Promise<DeliveryOutcome[]>;
  /** Tells the destination the vehicle's eCoC is withdrawn, where it can be told. */
  withdraw(vin: string, reason: string): Promise<WithdrawalOutcome>;
  /** The partner's acknowledgement of a delivered batch, if it has answered yet. */
  fetchAcknowledgement(packageId: string): Promise<AcknowledgementOutcome>;
  /**
   * Messages the destination already holds from packages whose ids start with `packageIdPrefix`,
   * as `deliver` would have answered: a delivery that reached the destination but whose receipts
   * were lost (the worker died right after the commit point). Absent where a message sent again
   * is recognised by the destination itself (a NAP replays a known IviReferenceId).
   */
  findDelivered?(packageIdPrefix: string): Promise<{ iviReferenceId: string; receipt: DestinationReceipt }[]>;
  close(): Promise<void>;
}
