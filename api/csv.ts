import type { Request, Response } from 'express';
import { writeCsv } from '../platform/csv.ts';

/**
 * CSV for compliance reporting, opened in spreadsheets: formula-like cells (a VIN or actor name is
 * data from outside) are escaped by the shared writer (platform/csv.ts); dates are ISO 8601,
 * objects JSON.
 */
export function csvRows(rows: readonly Record<string, unknown>[], columns: readonly string[], header: boolean): string {
  return writeCsv(rows as Record<string, unknown>[], {
    columns: [...columns],
    header,
    record_delimiter: 'windows',
    // Lines end in CRLF; a lone CR or LF inside a cell is quoted too, so no reader splits the record there.
    quoted_match: /[\r\n]/,
    cast: {
      date: (value) => value.toISOString(),
      bigint: (value) => value.toString(),
      boolean: (value) => (value ? 'true' : 'false'),
      object: (value) => JSON.stringify(value),
    },
  });
}

/**
 * Streams pages of rows as one CSV download (header once, even for no rows), waiting for the
 * client between pages: a slow client slows the export, not the server's memory.
 */
export async function streamCsv<T>(
  req: Request,
  res: Response,
  options: { fileName: string; columns: readonly string[]; pages: AsyncIterable<T[]>; row: (item: T) => Record<string, unknown> },
): Promise<void> {
  let aborted = false;
  req.on('close', () => (aborted = !res.writableFinished));
  res.status(200).type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${options.fileName}"`);
  let first = true;
  const write = async (text: string) => {
    if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
  };
  for await (const page of options.pages) {
    if (aborted) break;
    await write(csvRows(page.map(options.row), options.columns, first));
    first = false;
  }
  if (first && !aborted) await write(csvRows([], options.columns, true));
  res.end();
}
