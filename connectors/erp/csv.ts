import { CsvError } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import type { ErpMapping } from '../../schemas/erp/mapping.ts';
import type { ErpCellError } from '../../schemas/erp/report.ts';
import { ErpFileError } from './errors.ts';
import { requireColumns, type SourceRow } from './rows.ts';

/**
 * CSV rows, streamed. Records are cut at line ends outside quotes (so a quoted field may span
 * lines), then each record is parsed on its own by csv-parse: a malformed record is one row
 * error and the next line starts afresh. `row` is the file line the record starts on. A quote
 * that is never closed swallows the rest of the file, which the last row error says.
 */
export async function* csvRows(text: AsyncIterable<string>, mapping: ErpMapping): AsyncGenerator<SourceRow> {
  let header: string[] | undefined;
  for await (const record of records(text, mapping.csv.delimiter, mapping.limits.maxRowBytes)) {
    if ('error' in record) {
      yield { row: record.line, errors: [record.error] };
      continue;
    }
    let fields: string[];
    try {
      fields = (parse(record.text, { delimiter: mapping.csv.delimiter, relax_column_count: true }) as string[][])[0] ?? [];
    } catch (error) {
      const message = error instanceof CsvError ? error.message.replace(/ at line \d+/, '') : String(error);
      yield { row: record.line, errors: [{ column: '*', value: record.text.slice(0, 200), rule: 'malformed_csv', message }] };
      continue;
    }
    if (!header) {
      header = fields.map((name) => name.trim());
      requireColumns(header, mapping, record.line);
      continue;
    }
    if (fields.length !== header.length) {
      yield { row: record.line, errors: [{ column: '*', value: record.text.slice(0, 200), rule: 'column_count', message: `expected ${header.length} columns as in the header, found ${fields.length}` }] };
      continue;
    }
    yield { row: record.line, cells: Object.fromEntries(header.map((name, index) => [name, fields[index]!])) };
  }
  if (!header) throw new ErpFileError('file is empty: no header line', 'empty_file');
}

type RawRecord = { line: number; text: string } | { line: number; error: ErpCellError };

/**
 * Splits text into records at line ends outside quoted fields; blank lines are skipped. As in
 * RFC 4180 a quote opens a quoted field only as a field's first character (`""` inside one is
 * data): a stray quote elsewhere (`12" wheel`) makes only its own record malformed instead of
 * joining the following lines to it.
 */
async function* records(text: AsyncIterable<string>, delimiter: string, maxRowBytes: number): AsyncGenerator<RawRecord> {
  let current = '';
  let inQuotes = false;
  let fieldStart = true;
  let justClosed = false;
  let oversized = false;
  let line = 1;
  let start = 1;
  const finish = (): RawRecord | undefined => {
    const record = current.endsWith('\r') ? current.slice(0, -1) : current;
    const tooLarge = oversized;
    current = '';
    oversized = false;
    if (tooLarge) return { line: start, error: { column: '*', value: '', rule: 'row_too_large', message: `row exceeds the limit of ${maxRowBytes} bytes` } };
    return record.trim() === '' ? undefined : { line: start, text: record };
  };
  for await (const chunk of text) {
    for (const char of chunk) {
      if (char === '"') {
        const closing = inQuotes;
        if (inQuotes) inQuotes = false;
        else if (fieldStart || justClosed) inQuotes = true;
        justClosed = closing;
        fieldStart = false;
      } else {
        justClosed = false;
        fieldStart = (char === delimiter || char === '\n') && !inQuotes;
      }
      if (char === '\n' && !inQuotes) {
        const record = finish();
        if (record) yield record;
        line++;
        start = line;
        continue;
      }
      if (char === '\n') line++;
      if (oversized) continue;
      current += char;
      if (current.length > maxRowBytes) {
        oversized = true;
        current = '';
      }
    }
  }
  if (inQuotes) {
    current = '';
    oversized = false;
    yield { line: start, error: { column: '*', value: '', rule: 'unclosed_quote', message: `a quote opened in this row is never closed; lines ${start} to ${line} were read as one field` } };
    return;
  }
  const last = finish();
  if (last) yield last;
}
