/**
 * Error types shared by all outside-system connectors. Temporal retries an activity unless the
 * error's type is listed as non-retryable, so the split below is what the retry policy keys on:
 * `TemporarilyUnavailableError` is worth retrying, `PermanentConnectorError` never is.
 */

/** The other side could not be reached or asked us to come back later (outage, 503, timeout). */
export class TemporarilyUnavailableError extends Error {
  override name = 'TemporarilyUnavailableError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Retrying cannot help: wrong configuration, credentials refused, conflicting remote state. */
export class PermanentConnectorError extends Error {
  override name = 'PermanentConnectorError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Activity retry policies list these as `nonRetryableErrorTypes`. */
export const NON_RETRYABLE_CONNECTOR_ERRORS = ['PermanentConnectorError', 'UnknownDestinationError'] as const;

export function isRetryable(error: unknown): boolean {
  return error instanceof TemporarilyUnavailableError;
}
