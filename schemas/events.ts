import { z } from 'zod';

/**
 * The events the hub sends to the people and systems around it as signed webhooks (Standard
 * Webhooks). Each is derived from one audit record (events/catalogue.ts) and carries that
 * record's entry key as its id, so an occurrence is one event however often its step ran.
 */
export const eventTypes = [
  'review.escalated',
  'review.expired',
  'certificate.blocked',
  'delivery.failed',
  'delivery.rejected',
  'acknowledgement.received',
  'signing_certificate.expiring',
  'release_run.finished',
] as const;
export type EventType = (typeof eventTypes)[number];
export const eventTypeSchema = z.enum(eventTypes);

/** The certificate an event is about, as the status projection had it when the event was written. */
export const eventCertificateSchema = z.object({
  certificateId: z.string(),
  vin: z.string(),
  stage: z.number().int(),
  manufacturerId: z.string(),
  typeApprovalNumber: z.string(),
  destination: z.string().nullable(),
  status: z.string(),
  owner: z.string().nullable(),
  dataVersion: z.number().int(),
  messageVersion: z.number().int(),
});

/** The JSON body of one webhook call (Standard Webhooks payload structure: type, timestamp, data). */
export const webhookPayloadSchema = z.object({
  type: eventTypeSchema,
  /** When it happened (ISO 8601); the `webhook-timestamp` header is when this attempt was signed. */
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** A delivery's state: waiting for (another) attempt, answered 2xx, or given up after the last attempt. */
export const webhookDeliveryStatuses = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/** Why an attempt did not deliver: no answer in time, no HTTP answer at all, or a non-2xx status. */
export const webhookAttemptErrors = ['timeout', 'network', 'http_status'] as const;
export type WebhookAttemptError = (typeof webhookAttemptErrors)[number];
