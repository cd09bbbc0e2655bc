import { describe, expect, it } from 'vitest';
import { parseErpFile, type ErpRowResult } from '../../connectors/erp/parse.ts';
import { createErpReportBuilder } from '../../connectors/erp/report.ts';
import { FUZZ_MAPPING, generateRows, judge, writeRows } from '../support/erp-fuzz.ts';
import { createFuzz, fuzzCount } from '../support/fuzz.ts';

/**
 * Seeded fuzzing of the ERP readers (the inbox's and `ecoc ingest`'s path up to the report):
 * thousands of rows mixing good ones with hostile cells, written as CSV, JSON and XLSX. Every
 * row must come back exactly once under its own row number; good rows as records with their
 * values intact, bad rows with the column at fault named.
 */

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

// 5,000 per format keeps CI near 15 s on two shared cores; ECOC_FUZZ_ROWS=10000 for the full run.
const ROWS = fuzzCount(5_000);

describe('ERP readers under fuzzed input', { timeout: 120_000 }, () => {
  for (const format of ['csv', 'json', 'xlsx'] as const) {
    it(`${ROWS} generated ${format.toUpperCase()} rows: each comes back once under its row number, good ones intact, bad ones naming the column`, async () => {
      const fuzz = createFuzz(`erp-fuzz ${format}`);
      const rows = generateRows(fuzz, ROWS, format);
      const { bytes, numbers } = await writeRows(rows, format);
      const results: ErpRowResult[] = [];
      const report = createErpReportBuilder({ name: `fuzz.${format}`, sha256: '0'.repeat(64), manufacturerId: 'acme' });
      let failure: unknown;
      try {
        // Odd chunk sizes split multi-byte characters, quotes and line ends across reads.
        for await (const result of parseErpFile(chunked(bytes, 1 + fuzz.int(8191)), FUZZ_MAPPING, format)) {
          results.push(result);
          report.add(result);
        }
      } catch (error) {
        failure = error;
      }
      expect(failure, fuzz.say(`the reader threw ${String(failure)}`)).toBeUndefined();
      const problems = judge(rows, numbers, results);
      expect(problems.length, fuzz.say(`${problems.length} rows misread, first:\n${problems.slice(0, 8).join('\n')}`)).toBe(0);
      // The report (what goes back to the sender) holds every row, its totals add up, and its quoted values are printable.
      const finished = report.finish();
      const good = rows.filter((row) => row.blame === undefined).length;
      expect(finished.totals, fuzz.say('report totals')).toEqual({ rows: rows.length, accepted: good, rejected: rows.length - good });
    });
  }
});
