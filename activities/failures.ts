import { ApplicationFailure } from '@temporalio/activity';

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
  throw error;
}
