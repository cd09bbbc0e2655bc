import { z } from 'zod';
import { packageAcknowledgementSchema } from './sftp-package.ts';

/**
 * What the release workflow's delivery activities talk to. A destination is either a National
 * Access Point (one signed IVI message per VIN per call, withdrawal by VIN) or an SFTP partner
 * (packages of many messages, acknowledged later by a file from the partner).
 *
 * Outcomes are plain JSON (activities return them to workflows):
 * - `delivered` carries the receipt/reference to store;
 * - `rejected` is final: retrying the same bytes cannot succeed (reason code + message);
 * - a temporary outage is not an outcome but a thrown `TemporarilyUnavailableError`, so
 *   Temporal's activity retry policy handles it; `PermanentConnectorError` is non-retryable.
 */

/** A signed message exactly as stored: the bytes are sent as they are, never re-serialised. */
export interface SignedIviMessage {
  vin: string;
  iviReferenceId: string;
  iviVersionNumber: number;
  xml: Uint8Array;
}

export const napReceiptSchema = z.object({
  /** The NAP's own reference for this call; store it with the certificate. */
  receiptId: z.string().min(1),
  vin: z.string(),
  iviReferenceId: z.string().optional(),
  receivedAt: z.string(),
  /** The NAP had already accepted exactly these bytes (a retried call); nothing was duplicated. */
  replayed: z.boolean(),
});

const rejection = {
  status: z.literal('rejected'),
  code: z.string().min(1),
  message: z.string(),
};

export const messageOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('delivered'), vin: z.string(), receipt: napReceiptSchema }),
  z.object({ vin: z.string(), ...rejection }),
]);

export const withdrawalOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('withdrawn'), vin: z.string(), receipt: napReceiptSchema }),
  z.object({ vin: z.string(), ...rejection }),
]);

export const packageOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('delivered'), packageName: z.string(), sha256: z.string(), size: z.number(), count: z.number() }),
  /** The same package (same name, same bytes) is already on the partner's server. */
  z.object({ status: z.literal('already_delivered'), packageName: z.string(), sha256: z.string(), size: z.number(), count: z.number() }),
  z.object({ packageName: z.string(), ...rejection }),
]);

export const acknowledgementOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('pending'), packageName: z.string() }),
  z.object({ status: z.literal('acknowledged'), packageName: z.string(), acknowledgement: packageAcknowledgementSchema }),
]);

export type NapReceipt = z.infer<typeof napReceiptSchema>;
export type MessageOutcome = z.infer<typeof messageOutcomeSchema>;
export type WithdrawalOutcome = z.infer<typeof withdrawalOutcomeSchema>;
export type PackageOutcome = z.infer<typeof packageOutcomeSchema>;
export type AcknowledgementOutcome = z.infer<typeof acknowledgementOutcomeSchema>;

export interface IviPackageRequest {
  /** Chosen by the release workflow and stable across retries: it names the package file. */
  packageId: string;
  /** Part of the manifest; fixed by the caller so a retried build yields the same bytes. */
  createdAt: string;
  messages: SignedIviMessage[];
}

interface ChannelBase {
  readonly destinationId: string;
  close(): Promise<void>;
}

export interface NapDeliveryChannel extends ChannelBase {
  readonly kind: 'nap';
  /** One message, one call. A correction is simply the next version of the same VIN. */
  deliverMessage(message: SignedIviMessage): Promise<MessageOutcome>;
  withdraw(vin: string, reason: string): Promise<WithdrawalOutcome>;
}

export interface SftpDeliveryChannel extends ChannelBase {
  readonly kind: 'sftp';
  deliverPackage(request: IviPackageRequest): Promise<PackageOutcome>;
  /** Picks up `<package>.ack.json` if the partner has written it. */
  fetchAcknowledgement(packageId: string): Promise<AcknowledgementOutcome>;
}

export type DeliveryChannel = NapDeliveryChannel | SftpDeliveryChannel;
