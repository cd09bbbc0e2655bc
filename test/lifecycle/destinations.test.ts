import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestVehicle } from '../../certificates/ingest.ts';
import { processErpStream } from '../../inbox/process-stream.ts';
import { erpMappingSchema } from '../../schemas/erp/mapping.ts';
import { acmeMapping, CSV_HEADER, csvRow } from '../inbox/support.ts';
import { actors, NAP_DESTINATION, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';

let h: LifecycleHarness;
beforeAll(async () => {
  h = await startLifecycleHarness();
});
afterAll(async () => h?.stop());

describe('destinations that are not configured', () => {
  it('an ERP row naming one is rejected in the report with the configured list; the file’s other rows are ingested', async () => {
    const good = nextVin();
    const typo = nextVin();
    const csv = `${CSV_HEADER}\n${csvRow(good)}\n${csvRow(typo).replace(NAP_DESTINATION, 'nap-dee')}\n`;
    const { report } = await processErpStream(Readable.from([csv]), {
      ingest: { db: h.db, client: h.client, taskQueue: h.taskQueue, review: h.review, destinations: h.destinations },
      mapping: erpMappingSchema.parse(acmeMapping),
      fileName: 'typo.csv',
      actor: { id: 'erp-inbox', roles: ['integrator'] },
    });
    expect(report.status).toBe('partial');
    expect(report.rows).toEqual([
      { row: 2, status: 'accepted', vin: good },
      { row: 3, status: 'rejected', vin: typo, errors: [{ column: '*', value: typo, rule: 'refused', message: `destination "nap-dee" is not configured; configured: ${NAP_DESTINATION}` }] },
    ]);
    // Refused before anything was stored: no certificate, no data version.
    expect(await h.db.certificateDataVersion.count({ where: { certificateId: { contains: typo } } })).toBe(0);
  });

  it('a certificate whose destination left the configuration is blocked by a finding (ECOC-DEST-001), not failed at delivery', async () => {
    const record = specimenRecord(nextVin(), { destination: 'nap-retired' });
    // Accepted where the destination was still configured (an API process not yet restarted); the worker validates with the current file.
    const ingested = await ingestVehicle({ db: h.db, client: h.client, taskQueue: h.taskQueue, review: h.review, destinations: [...h.destinations, 'nap-retired'] }, record, actors.erp, 'erp');
    const state = await h.waitForStatus(ingested.certificateId, 'blocked');
    expect(state.findings?.blocking).toEqual([
      {
        ruleId: 'ECOC-DEST-001',
        path: 'destination',
        message: `destination "nap-retired" is not configured; configured: ${NAP_DESTINATION}. Correct the destination or configure it`,
        owner: 'integration',
      },
    ]);
  });
});
