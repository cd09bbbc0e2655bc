import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { webhookSecretSchema, webhooksFileSchema, type WebhookEndpointConfig } from '../schemas/config/webhooks.ts';
import type { EventType } from '../schemas/events.ts';

/** A configured endpoint with its signer (the secret itself stays inside the Webhook instance). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events?: readonly EventType[] | undefined;
  manufacturers?: readonly string[] | undefined;
  signer: Webhook;
}

/** `ECOC_WEBHOOKS_FILE` or an endpoint's secret file cannot be used: start-up stops with this. */
export class WebhookConfigError extends Error {
  override name = 'WebhookConfigError';
}

/** Reads and validates `ECOC_WEBHOOKS_FILE` and every secret it names; errors name the variable, the file and the entry. */
export function loadWebhookEndpoints(file: string | undefined): WebhookEndpoint[] {
  if (file === undefined) return [];
  const json = readJson(file);
  const parsed = webhooksFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  [${issue.path.join('.')}] ${issue.message}`).join('\n');
    throw new WebhookConfigError(`ECOC_WEBHOOKS_FILE: ${file} is invalid:\n${issues}`);
  }
  return parsed.data.map((endpoint, index) => ({
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    manufacturers: endpoint.manufacturers,
    signer: new Webhook(readSecret(file, index, endpoint)),
  }));
}

/** Whether an event goes to this endpoint: its event types, and for certificate events its manufacturers. */
export function subscribes(endpoint: Pick<WebhookEndpoint, 'events' | 'manufacturers'>, event: { type: string; manufacturerId: string | null }): boolean {
  if (endpoint.events && !endpoint.events.includes(event.type as EventType)) return false;
  if (!endpoint.manufacturers) return true;
  return event.manufacturerId !== null && endpoint.manufacturers.includes(event.manufacturerId);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new WebhookConfigError(`ECOC_WEBHOOKS_FILE: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WebhookConfigError(`ECOC_WEBHOOKS_FILE: ${file} is not JSON: ${(error as Error).message}`);
  }
}

function readSecret(file: string, index: number, endpoint: WebhookEndpointConfig): string {
  let text: string;
  try {
    text = readFileSync(endpoint.secretFile, 'utf8');
  } catch (error) {
    throw new WebhookConfigError(`ECOC_WEBHOOKS_FILE: ${file} [${index}] endpoint "${endpoint.id}": cannot read secretFile ${endpoint.secretFile}: ${(error as Error).message}`);
  }
  const secret = webhookSecretSchema.safeParse(text);
  if (!secret.success) {
    throw new WebhookConfigError(`ECOC_WEBHOOKS_FILE: ${file} [${index}] endpoint "${endpoint.id}": secretFile ${endpoint.secretFile}: ${secret.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  return secret.data;
}
