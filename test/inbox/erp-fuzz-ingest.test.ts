import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processErpStream, type ErpStreamOptions } from '../../inbox/process-stream.ts';
import { createFuzz } from '../support/fuzz.ts';
import { NAP_DESTINATION, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { FUZZ_MAPPING, generateRows, writeRows } from '../support/erp-fuzz.ts';

/**
 * A small fuzzed file end to end through the one ingest path (inbox and `ecoc ingest`): every
 * accepted row becomes exactly one certificate with one data version, and processing the same
 * file again stores nothing new.
 */
describe('fuzzed ERP rows ingested end to end', { timeout: 300_000 }, () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycleHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('stores each accepted row exactly once, also when the file comes again', async () => {
    const fuzz = createFuzz('erp-fuzz ingest');
    // VINs of their own (offset) so no other test's certificates count; huge fields are left to the reader test.
    const rows = generateRows(fuzz, 20, 'csv', 900_000 + fuzz.int(90_000)).filter((row) => row.kind !== 'huge');
    for (const row of rows) if (row.cells.Destination) row.cells.Destination = NAP_DESTINATION;
    const { bytes } = await writeRows(rows, 'csv');
    const options: ErpStreamOptions = {
      ingest: { db: h.db, client: h.client, taskQueue: h.taskQueue, review: h.review, destinations: h.destinations },
      mapping: FUZZ_MAPPING,
      fileName: 'fuzz.csv',
      actor: { id: 'erp-inbox', roles: ['integrator'] },
    };
    const first = await processErpStream(Readable.from([bytes]), options);
    const accepted = rows.filter((row) => row.blame === undefined).map((row) => row.cells.VIN!);
    expect(first.report.totals, fuzz.say('report totals')).toEqual({ rows: rows.length, accepted: accepted.length, rejected: rows.length - accepted.length });
    expect(first.report.rows.flatMap((row) => (row.status === 'accepted' ? [row.vin] : [])).sort(), fuzz.say('accepted VINs')).toEqual([...accepted].sort());

    const stored = async () => h.db.certificate.findMany({ where: { vin: { in: accepted } }, select: { id: true, vin: true, _count: { select: { dataVersions: true } } } });
    const once = await stored();
    expect(once.map((c) => c.vin).sort(), fuzz.say('certificates stored')).toEqual([...accepted].sort());
    expect(once.every((c) => c._count.dataVersions === 1), fuzz.say('one data version each')).toBe(true);

    const again = await processErpStream(Readable.from([bytes]), options);
    expect(again.outcomes, fuzz.say('second run')).toEqual({ created: 0, corrected: 0, unchanged: accepted.length });
    const twice = await stored();
    expect(twice, fuzz.say('nothing duplicated')).toEqual(once);
  });
});
