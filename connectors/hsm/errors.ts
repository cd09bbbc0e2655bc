/**
 * Signing failures say whether trying again can help: an activity turns `retryable: false` into a
 * non-retryable failure, so a wrong PIN is not retried into a token lockout.
 */
export abstract class SigningError extends Error {
  abstract readonly retryable: boolean;
  /** Stable machine-readable reason, e.g. `pin_incorrect`, `key_not_found`, `token_unavailable`. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The key, certificate, PIN or settings are wrong: only a person can fix it. */
export class SignerConfigurationError extends SigningError {
  override name = 'SignerConfigurationError';
  readonly retryable = false;
}

/** The token or HSM did not answer (removed, restarting, network HSM down): try again later. */
export class SignerUnavailableError extends SigningError {
  override name = 'SignerUnavailableError';
  readonly retryable = true;
}
