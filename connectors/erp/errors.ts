import type { SpreadsheetRefusal } from '../../platform/xlsx.ts';

/**
 * The file as a whole cannot be read further (encoding, structure, size), or is not read at all
 * (a format the inbox does not know, a copy of a file already processed). Rows before it stand.
 */
export class ErpFileError extends Error {
  override name = 'ErpFileError';
  constructor(
    message: string,
    readonly rule:
      | 'encoding'
      | 'malformed_csv'
      | 'malformed_json'
      | 'file_too_large'
      | 'missing_column'
      | 'empty_file'
      | 'unsupported_format'
      | 'duplicate'
      // XLSX: not a workbook, formulas, error values, merged cells (a zip bomb is file_too_large).
      | Exclude<SpreadsheetRefusal, 'too_large'>,
    readonly row?: number,
  ) {
    super(message);
  }
}
