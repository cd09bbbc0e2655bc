import { z } from 'zod';
import { duration } from './types.ts';

const positiveInt = z.coerce.number().int().positive();

/** Batch releases: how much one run takes on, how wide it fans out, how partner acks are watched. */
export const releaseConfigSchema = z.object({
  /** At most this many certificates per release run; the rest waits for the next run. */
  ECOC_RELEASE_BATCH_SIZE: positiveInt.default(10_000),
  /** Certificates per delivery step: one SFTP package (zip), or one group of NAP calls. */
  ECOC_RELEASE_CHUNK_SIZE: positiveInt.max(5_000).default(200),
  /** Delivery steps of one run in flight at once. */
  ECOC_RELEASE_CONCURRENCY: positiveInt.max(64).default(4),
  /** Calls in flight inside one step (claims, NAP requests, outcome reports). */
  ECOC_RELEASE_CALL_CONCURRENCY: positiveInt.max(256).default(16),
  /** How long one delivery step keeps retrying a destination outage before its certificates go back to waiting. */
  ECOC_RELEASE_DELIVERY_RETRY_FOR: duration.prefault('30m'),
  /** A run continues as new once its history has this many events (Temporal's hard limit is 51,200). */
  ECOC_RELEASE_HISTORY_EVENTS: positiveInt.min(100).default(5_000),
  /** How often a partner's SFTP directory is looked at for `<package>.ack.json`. */
  ECOC_RELEASE_ACK_POLL_INTERVAL: duration.prefault('5m'),
  /** Stop watching for a package's acknowledgement after this long (the receipt stays unacknowledged). */
  ECOC_RELEASE_ACK_TIMEOUT: duration.prefault('7d'),
  /** Time zone schedules use when none is given. */
  ECOC_RELEASE_TIMEZONE: z
    .string()
    .default('Europe/Brussels')
    .refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Brussels or UTC' }),
});

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
