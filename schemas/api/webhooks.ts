import { eventTypes, webhookAttemptErrors, webhookDeliveryStatuses } from '../events.ts';
import { id, text } from '../text.ts';
import { z } from './openapi-zod.ts';

const timestamp = z.string().openapi({ format: 'date-time' });

export const webhookDeliveryQuerySchema = z.object({
  status: z.enum(webhookDeliveryStatuses).optional(),
  endpointId: id().optional(),
  type: z.enum(eventTypes).optional().openapi({ description: 'Event type' }),
  eventId: id().optional(),
  after: text({ min: 1, max: 500 }).optional().openapi({ description: 'Cursor: nextCursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const webhookAttemptSchema = z.object({
  attempt: z.number().int(),
  startedAt: timestamp,
  durationMs: z.number().int(),
  statusCode: z.number().int().nullable().openapi({ description: 'The endpoint’s HTTP status; null when it gave none' }),
  error: z.enum(webhookAttemptErrors).nullable().openapi({ description: 'Why the attempt did not deliver; null when it did' }),
  detail: z.string().nullable(),
});

export const webhookDeliverySchema = z
  .object({
    eventId: z.string().openapi({ description: 'The `webhook-id` header: the audit entry key of the occurrence' }),
    endpointId: z.string(),
    type: z.enum(eventTypes),
    occurredAt: timestamp,
    certificateId: z.string().nullable(),
    status: z.enum(webhookDeliveryStatuses),
    attempts: z.number().int(),
    nextAttemptAt: timestamp.nullable().openapi({ description: 'When a pending delivery is tried next' }),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: timestamp.nullable(),
    createdAt: timestamp,
    history: z.array(webhookAttemptSchema).openapi({ description: 'Every attempt, oldest first' }),
  })
  .openapi('WebhookDelivery');

export const webhookDeliveryPageSchema = z
  .object({ items: z.array(webhookDeliverySchema), nextCursor: z.string().nullable() })
  .openapi('WebhookDeliveryPage');

export type WebhookDeliveryView = z.infer<typeof webhookDeliverySchema>;
