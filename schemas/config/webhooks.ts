import { z } from 'zod';
import { eventTypeSchema } from '../events.ts';
import { duration } from './types.ts';

/**
 * Signed webhooks (events/): endpoints live in a JSON file (`ECOC_WEBHOOKS_FILE`), each with its
 * own secret in a file the deployment mounts (never inline); the variables tune the dispatcher.
 */
export const webhooksConfigSchema = z.object({
  ECOC_WEBHOOKS_FILE: z.string().min(1).optional(),
  /** Upper bound for one webhook call; a slower endpoint counts as a failed attempt. */
  ECOC_WEBHOOK_TIMEOUT: duration.prefault('10s'),
  /** How often the dispatcher looks for new events and due retries. */
  ECOC_WEBHOOK_POLL_INTERVAL: duration.prefault('2s').refine((ms) => ms >= 10, 'must be at least 10ms'),
  /** First retry delay; each further one doubles, up to ECOC_WEBHOOK_RETRY_MAX. */
  ECOC_WEBHOOK_RETRY_INITIAL: duration.prefault('30s'),
  ECOC_WEBHOOK_RETRY_MAX: duration.prefault('1h'),
  /** Attempts before a delivery is given up (kept in the delivery log as `failed`); 25 span about a day by default. */
  ECOC_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(25),
});

/** Standard Webhooks secrets: `whsec_` and base64 of 24 to 64 random bytes. */
export const webhookSecretSchema = z
  .string()
  .trim()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'expected whsec_<base64>')
  .refine((secret) => {
    const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
    return bytes >= 24 && bytes <= 64;
  }, 'the key after whsec_ must be 24 to 64 bytes');

export const webhookEndpointSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "-" and "_" (at most 63 characters)'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    /** File holding the endpoint's `whsec_…` secret. */
    secretFile: z.string().min(1),
    /** Event types sent to this endpoint; all when absent. */
    events: z.array(eventTypeSchema).min(1).optional(),
    /** Certificate events of these manufacturers only; all when absent. Hub events (signing certificate, release runs) go to endpoints without this filter. */
    manufacturers: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export const webhooksFileSchema = z.array(webhookEndpointSchema).superRefine((endpoints, context) => {
  const seen = new Set<string>();
  endpoints.forEach((endpoint, index) => {
    if (seen.has(endpoint.id)) context.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate webhook endpoint id "${endpoint.id}"` });
    seen.add(endpoint.id);
  });
});

export type WebhookEndpointConfig = z.infer<typeof webhookEndpointSchema>;
