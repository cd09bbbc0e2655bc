import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { storePublishedApproval } from '../support/type-approvals.ts';
import type { ErpReport } from '../../schemas/erp/report.ts';
import { certificateWorkflowId } from '../../workflows/certificate/definitions.ts';
import { nextVin, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { acmeMapping, badVin, CSV_HEADER, csvRow, specimenApproval } from './support.ts';

const run = promisify(execFile);
const ECOC = new URL('../../cli/ecoc.js', import.meta.url).pathname;

/** `ecoc ingest` is the inbox's path for a local file: same mapping, same report, same certificates. */
describe('ecoc ingest', { timeout: 300_000 }, () => {
  let h: LifecycleHarness;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    h = await startLifecycleHarness();
    await storePublishedApproval(h.db, specimenApproval());
    dir = mkdtempSync(join(tmpdir(), 'ecoc-ingest-cli-'));
    writeFileSync(join(dir, 'mappings.json'), JSON.stringify([acmeMapping]));
    env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: h.databaseUrl, ECOC_TASK_QUEUE: h.taskQueue, ECOC_ERP_MAPPINGS_FILE: join(dir, 'mappings.json'), ECOC_LOG_LEVEL: 'warn' };
    // Rows name a destination: ingest checks it against the stack's configured destinations.
    if (h.config.ECOC_DESTINATIONS_FILE) env.ECOC_DESTINATIONS_FILE = h.config.ECOC_DESTINATIONS_FILE;
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests a local CSV and writes the report beside it', async () => {
    const [good, bad] = [nextVin(), nextVin()];
    const file = join(dir, 'local.csv');
    writeFileSync(file, [CSV_HEADER, csvRow(good), csvRow(badVin(bad)), ''].join('\n'));
    const { stdout } = await run(process.execPath, [ECOC, 'ingest', file, '--manufacturer', 'acme', '--actor', 'erp-cli'], { env });
    expect(JSON.parse(stdout)).toMatchObject({ status: 'partial', totals: { rows: 2, accepted: 1, rejected: 1 }, outcomes: { created: 1 }, report: `${file}.report.json` });
    const report = JSON.parse(readFileSync(`${file}.report.json`, 'utf8')) as ErpReport;
    expect(report.rows[1]).toMatchObject({ row: 3, status: 'rejected', errors: [{ column: 'VIN', value: badVin(bad), rule: 'vehicle_record.invalid_format' }] });
    await h.waitForStatus(certificateWorkflowId(good, 1), 'in_review', 180_000);
    expect(await h.db.certificateDataVersion.findFirstOrThrow({ where: { certificateId: certificateWorkflowId(good, 1) } })).toMatchObject({ source: 'erp', submittedBy: 'erp-cli' });
  });

  it('ingests a local XLSX with the same mapping: number and date cells as in the CSV', async () => {
    const vin = nextVin();
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('ERP');
    sheet.addRow(CSV_HEADER.split(';'));
    sheet.addRow([...csvRow(vin).split(';').slice(0, 5), 2184, new Date(Date.UTC(2024, 3, 8))]);
    const file = join(dir, 'local.xlsx');
    await book.xlsx.writeFile(file);
    const { stdout } = await run(process.execPath, [ECOC, 'ingest', file, '--manufacturer', 'acme'], { env });
    expect((JSON.parse(readFileSync(`${file}.report.json`, 'utf8')) as ErpReport).rows).toEqual([{ row: 2, status: 'accepted', vin }]);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'accepted', totals: { rows: 1, accepted: 1, rejected: 0 }, outcomes: { created: 1 } });
    const version = await h.db.certificateDataVersion.findFirstOrThrow({ where: { certificateId: certificateWorkflowId(vin, 1) } });
    expect(version.record).toMatchObject({ vin, values: { MassGroup: { ActualMass: 2184 }, DateManufactureVehicle: '2024-04-08' } });
  });

  it('names an unknown manufacturer and exits non-zero', async () => {
    const failure = await run(process.execPath, [ECOC, 'ingest', join(dir, 'local.csv'), '--manufacturer', 'nobody'], { env }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('no ERP mapping for manufacturer "nobody"; mapped: acme');
  });
});
