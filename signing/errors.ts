import { SigningError } from '../connectors/hsm/errors.ts';

/**
 * The document or certificate cannot be signed as the IVI profile requires (malformed input,
 * expired certificate, output that fails verification or the XSD). Retrying the same step cannot
 * help, so activities fail it as non-retryable.
 */
export class IviSignatureError extends SigningError {
  override name = 'IviSignatureError';
  readonly retryable = false;

  constructor(
    code: string,
    /** The message without the problem lines. */
    readonly summary: string,
    /** One line per problem found (verification reasons, XSD errors with line numbers). */
    readonly problems: string[] = [],
    options?: ErrorOptions,
  ) {
    super(code, problems.length > 0 ? `${summary}\n  ${problems.join('\n  ')}` : summary, options);
  }
}
