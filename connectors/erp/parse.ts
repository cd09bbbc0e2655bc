import type { ErpMapping } from '../../schemas/erp/mapping.ts';
import type { ErpCellError } from '../../schemas/erp/report.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';
import { csvRows } from './csv.ts';
import { decodeText } from './decode.ts';
import { jsonRows } from './json.ts';
import { mapRow } from './map-row.ts';
import { xlsxRows } from './xlsx.ts';

export type ErpFormat = 'csv' | 'json' | 'ndjson' | 'xlsx';

/** What the inbox and `ecoc ingest` read, for messages. */
export const ERP_FILE_TYPES = '.csv, .json (one array), .ndjson, .jsonl or .xlsx (first sheet)';

export type ErpRowResult = { row: number; record: VehicleRecord } | { row: number; errors: ErpCellError[]; vin?: string };

/** The format from the file name: `.csv`, `.json` (one array), `.ndjson`/`.jsonl` (one object per line), `.xlsx`. */
export function erpFormatOf(fileName: string): ErpFormat | undefined {
  const extension = /\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (extension === 'csv' || extension === 'json' || extension === 'xlsx') return extension;
  return extension === 'ndjson' || extension === 'jsonl' ? 'ndjson' : undefined;
}

/**
 * Streams an ERP file into vehicle records, one result per row, without holding the file in
 * memory (except XLSX, a zip: read whole within `limits.maxFileBytes`, connectors/erp/xlsx.ts).
 * Bad rows yield errors and parsing continues; a problem with the file itself (wrong encoding,
 * file too large, unreadable structure) throws `ErpFileError` after every row before it has
 * been yielded. JSON files are read in the encoding JSON requires (UTF-8).
 */
export async function* parseErpFile(input: AsyncIterable<Uint8Array | string>, mapping: ErpMapping, format: ErpFormat): AsyncGenerator<ErpRowResult> {
  const text = () => decodeText(input, format === 'csv' ? mapping.csv.encoding : 'utf-8', mapping.limits.maxFileBytes);
  const rows = format === 'xlsx' ? xlsxRows(input, mapping) : format === 'csv' ? csvRows(text(), mapping) : jsonRows(text(), mapping, format);
  for await (const source of rows) {
    if ('errors' in source) {
      yield source;
      continue;
    }
    const mapped = mapRow(source.cells, mapping);
    yield 'record' in mapped ? { row: source.row, record: mapped.record } : { row: source.row, ...mapped };
  }
}
