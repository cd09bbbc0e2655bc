import { ApplicationFailure } from '@temporalio/activity';
import { TemporarilyUnavailableError } from '../connectors/delivery/errors.ts';

/**
 * Business outcomes that retrying cannot change become non-retryable failures with the original
 * message and type, so the workflow records the reason and moves the certificate to `failed`.
 */
export function nonRetryable(error: unknown): never {
  const cause = error instanceof Error ? error : new Error(String(error));
  throw ApplicationFailure.create({ message: cause.message, type: cause.name, nonRetryable: true, cause });
}

/** Errors that say themselves whether a retry can help (`retryable: false` → non-retryable). */
export function rethrowClassified(error: unknown): never {
  if (error && typeof error === 'object' && 'retryable' in error && (error as { retryable: unknown }).retryable === false) nonRetryable(error);
  if (error instanceof TemporarilyUnavailableError) retryLater(error);
  throw error;
}

/**
 * An outage the other side asked us to wait out (HTTP Retry-After): the next attempt comes when
 * it asked, not on the retry policy's own schedule.
 */
export function retryLater(error: TemporarilyUnavailableError): never {
  if (error.retryAfterMs === undefined) throw error;
  throw ApplicationFailure.create({ message: error.message, type: error.name, nextRetryDelay: error.retryAfterMs, cause: error });
}
