/** The file as a whole cannot be read further (encoding, structure, size). Rows before it stand. */
export class ErpFileError extends Error {
  override name = 'ErpFileError';
  constructor(
    message: string,
    readonly rule: 'encoding' | 'malformed_csv' | 'malformed_json' | 'file_too_large' | 'missing_column' | 'empty_file',
    readonly row?: number,
  ) {
    super(message);
  }
}
