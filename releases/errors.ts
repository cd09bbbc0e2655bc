/**
 * A release request that cannot be done as asked; `kind` says why, so the API can answer 403,
 * 404 or 409 and the CLI can print the message as it is.
 */
export class ReleaseRequestError extends Error {
  override name = 'ReleaseRequestError';
  constructor(
    readonly kind: 'forbidden' | 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}
