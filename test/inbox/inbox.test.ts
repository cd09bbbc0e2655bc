import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestInboxPoll, inboxPoller, startInboxPoller } from '../../inbox/poller.ts';
import { storePublishedApproval } from '../support/type-approvals.ts';
import { createLogger } from '../../platform/logger.ts';
import { waitFor } from '../../platform/wait.ts';
import { certificateWorkflowId } from '../../workflows/certificate/definitions.ts';
import { inboxStateQuery } from '../../workflows/inbox/definitions.ts';
import type { InboxState } from '../../workflows/inbox/types.ts';
import { startLifecycleHarness, nextVin, type LifecycleHarness } from '../support/lifecycle.ts';
import { startTestSshd, type TestSshd } from '../support/sshd.ts';
import { acmeMapping, badVin, CSV_HEADER, csvRow, deliver, jsonRow, present, readReport, specimenApproval } from './support.ts';

/**
 * The ERP inbox end to end: files dropped on a real OpenSSH server, the poller workflow on the
 * real Temporal server, certificates started through the real ingest path and PostgreSQL.
 */
// Generous: the first certificates compile the IVI schema, and the CI machine is shared.
describe('ERP inbox over SFTP', { timeout: 300_000 }, () => {
  let sshd: TestSshd;
  let h: LifecycleHarness;
  let inbox: string;
  let dir: string;

  beforeAll(async () => {
    sshd = await startTestSshd();
    inbox = join(sshd.root, 'inbox');
    mkdirSync(inbox);
    dir = mkdtempSync(join(tmpdir(), 'ecoc-inbox-test-'));
    const mappingsFile = join(dir, 'mappings.json');
    writeFileSync(mappingsFile, JSON.stringify([acmeMapping, { ...acmeMapping, manufacturerId: 'tiny', limits: { maxFileBytes: 2_000 } }]));
    const endpoint = sshd.endpoint('inbox');
    h = await startLifecycleHarness({
      env: {
        ECOC_INBOX_SFTP_HOST: endpoint.host,
        ECOC_INBOX_SFTP_PORT: String(endpoint.port),
        ECOC_INBOX_SFTP_USERNAME: endpoint.username,
        ECOC_INBOX_SFTP_PRIVATE_KEY_FILE: endpoint.privateKeyFile,
        ECOC_INBOX_SFTP_HOST_KEY_SHA256: endpoint.hostKeySha256,
        ECOC_INBOX_SFTP_REMOTE_DIR: endpoint.remoteDir,
        ECOC_ERP_MAPPINGS_FILE: mappingsFile,
        // Short, so the outage test can watch the poller carry on by itself.
        ECOC_INBOX_POLL_INTERVAL: '2s',
      },
    });
    await storePublishedApproval(h.db, specimenApproval());
    await startInboxPoller(h.client, h.config, createLogger('warn'));
  });

  afterAll(async () => {
    await inboxPoller(h.client, h.taskQueue)
      .terminate('test finished')
      .catch(() => undefined);
    await h?.stop();
    await sshd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const poll = () => requestInboxPoll(h.client, h.taskQueue, 240_000);

  it('takes a CSV and a JSON file with good and bad rows into certificate workflows, with a report beside each moved file', async () => {
    const [a, b, c, d, e, f] = [nextVin(), nextVin(), nextVin(), nextVin(), nextVin(), nextVin()];
    deliver(inbox, 'acme/vehicles.csv', [CSV_HEADER, csvRow(a), csvRow(b, 2190, '09.04.2024'), csvRow(badVin(c)), csvRow(d, 'zwei', '31.02.2024'), ''].join('\n'));
    deliver(inbox, 'acme/vehicles.json', JSON.stringify([jsonRow(e), jsonRow(undefined), jsonRow(f, 2200.5)]));

    const state = await poll();
    expect(state.lastError).toBeUndefined();
    expect(state.recent.filter((r) => r.name.startsWith('vehicles.')).map(({ name, disposition, rows, accepted, rejected, movedTo }) => ({ name, disposition, rows, accepted, rejected, movedTo }))).toEqual(
      expect.arrayContaining([
        { name: 'vehicles.csv', disposition: 'processed', rows: 4, accepted: 2, rejected: 2, movedTo: 'acme/processed/vehicles.csv' },
        { name: 'vehicles.json', disposition: 'processed', rows: 3, accepted: 1, rejected: 2, movedTo: 'acme/processed/vehicles.json' },
      ]),
    );
    expect(present(inbox, 'acme/vehicles.csv')).toBe(false);
    expect(present(inbox, 'acme/processed/vehicles.csv')).toBe(true);

    const csv = readReport(inbox, 'acme/processed/vehicles.csv');
    expect(csv).toMatchObject({ file: 'vehicles.csv', manufacturerId: 'acme', status: 'partial', totals: { rows: 4, accepted: 2, rejected: 2 } });
    expect(csv.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(csv.rows).toEqual([
      { row: 2, status: 'accepted', vin: a },
      { row: 3, status: 'accepted', vin: b },
      { row: 4, status: 'rejected', vin: badVin(c), errors: [{ column: 'VIN', value: badVin(c), rule: 'vehicle_record.invalid_format', message: expect.stringMatching(/^vin: /) }] },
      {
        row: 5,
        status: 'rejected',
        vin: d,
        errors: [
          { column: 'Actual mass (kg)', value: 'zwei', rule: 'number', message: expect.stringContaining('"zwei" is not a number') },
          { column: 'Built', value: '31.02.2024', rule: 'date', message: '"31.02.2024" is not a calendar date' },
        ],
      },
    ]);
    const json = readReport(inbox, 'acme/processed/vehicles.json');
    expect(json.rows).toEqual([
      { row: 1, status: 'accepted', vin: e },
      { row: 2, status: 'rejected', errors: [{ column: 'VIN', value: '', rule: 'required', message: 'VIN is required' }] },
      { row: 3, status: 'rejected', vin: f, errors: [{ column: 'Actual mass (kg)', value: '2200.5', rule: 'integer', message: '"2200.5" is not a whole number' }] },
    ]);

    for (const vin of [a, b, e]) {
      const reviewed = await h.waitForStatus(certificateWorkflowId(vin, 1), 'in_review', 180_000);
      expect(reviewed.findings?.errors).toBe(0);
    }
    const stored = await h.db.certificateDataVersion.findFirstOrThrow({ where: { certificateId: certificateWorkflowId(b, 1) } });
    expect(stored).toMatchObject({ source: 'erp', submittedBy: 'erp-inbox', record: { values: { MassGroup: { ActualMass: 2190 }, DateManufactureVehicle: '2024-04-09' } } });
    expect(await h.db.certificate.count({ where: { vin: { in: [c, d, f] } } })).toBe(0);
  });

  it('processes the same file delivered twice only once; new content under the same name is a new file', async () => {
    const vin = nextVin();
    const content = [CSV_HEADER, csvRow(vin), ''].join('\n');
    deliver(inbox, 'acme/daily.csv', content);
    await poll();
    const certificateId = certificateWorkflowId(vin, 1);
    await h.waitForStatus(certificateId, 'in_review', 180_000);

    deliver(inbox, 'acme/daily.csv', content);
    const state = await poll();
    expect(state.recent.at(-1)).toMatchObject({ name: 'daily.csv', disposition: 'duplicate', movedTo: 'acme/rejected/daily.csv', fileError: { rule: 'duplicate' } });
    expect(readReport(inbox, 'acme/rejected/daily.csv')).toMatchObject({
      status: 'rejected',
      totals: { rows: 0 },
      fileError: { rule: 'duplicate', message: expect.stringMatching(/^same name and content \(SHA-256 [0-9a-f]{64}\) as the file taken on .* and moved to processed\/daily\.csv; not ingested again$/) },
    });
    expect(await h.db.erpInboxFile.count({ where: { manufacturerId: 'acme', fileName: 'daily.csv' } })).toBe(1);
    expect(await h.db.certificateDataVersion.count({ where: { certificateId } })).toBe(1);

    // Same name, new content: processed, kept beside the first under a name with its hash.
    deliver(inbox, 'acme/daily.csv', [CSV_HEADER, csvRow(vin, 2185), ''].join('\n'));
    const next = await poll();
    const taken = next.recent.at(-1)!;
    expect(taken).toMatchObject({ name: 'daily.csv', disposition: 'processed', accepted: 1 });
    expect(taken.movedTo).toBe(`acme/processed/daily.${taken.sha256.slice(0, 12)}.csv`);
    expect(present(inbox, taken.movedTo)).toBe(true);
    expect(await h.db.certificateDataVersion.count({ where: { certificateId } })).toBe(2);
  });

  it('rejects files that cannot be read as a whole, with a clear report, keeping the rows before the damage', async () => {
    const [good, after] = [nextVin(), nextVin()];
    // Bytes are decoded as they arrive, so rows in chunks before the damage stand: make the file span several SFTP reads.
    const filler = Array.from({ length: 1_500 }, (_, i) => csvRow(`WVWFILL${String(i).padStart(10, '0')}`, 'n/a'));
    const latin1 = Buffer.concat([Buffer.from([CSV_HEADER, csvRow(good), ...filler, ''].join('\n')), Buffer.from(`${csvRow(after)};Gr\xfcn\n`, 'latin1')]);
    deliver(inbox, 'acme/latin1.csv', latin1);
    deliver(inbox, 'acme/broken.json', '{"VIN": "not an array"}');
    deliver(inbox, 'acme/notes.txt', 'hello');
    const state = await poll();
    expect(state.recent.slice(-3).map((r) => [r.name, r.disposition, r.fileError?.rule])).toEqual(
      expect.arrayContaining([
        ['latin1.csv', 'rejected', 'encoding'],
        ['broken.json', 'rejected', 'malformed_json'],
        ['notes.txt', 'rejected', 'unsupported_format'],
      ]),
    );
    const damaged = readReport(inbox, 'acme/rejected/latin1.csv');
    expect(damaged).toMatchObject({ status: 'partial', fileError: { rule: 'encoding', row: 1_503, message: 'file is not valid utf-8: undecodable bytes at line 1503' } });
    expect(damaged.rows[0]).toEqual({ row: 2, status: 'accepted', vin: good });
    expect(damaged.totals.rows).toBeGreaterThan(1);
    expect(damaged.totals.rows).toBeLessThan(1_501);
    expect(readReport(inbox, 'acme/rejected/broken.json').fileError).toEqual({ rule: 'malformed_json', message: 'expected a JSON array of objects ("[" first); use .ndjson for one object per line' });
    expect(readReport(inbox, 'acme/rejected/notes.txt').fileError?.message).toMatch(/unknown file type/);
    expect(present(inbox, 'acme/latin1.csv') || present(inbox, 'acme/broken.json') || present(inbox, 'acme/notes.txt')).toBe(false);
    await h.waitForStatus(certificateWorkflowId(good, 1), 'in_review', 180_000);
  });

  it('refuses an oversized file unread with a clear error', async () => {
    const vin = nextVin();
    const rows = Array.from({ length: 40 }, () => csvRow(vin));
    const content = [CSV_HEADER, ...rows, ''].join('\n');
    deliver(inbox, 'tiny/big.csv', content);
    const state = await poll();
    expect(state.recent.at(-1)).toMatchObject({ manufacturerId: 'tiny', name: 'big.csv', disposition: 'rejected', movedTo: 'tiny/rejected/big.csv' });
    expect(readReport(inbox, 'tiny/rejected/big.csv')).toMatchObject({
      status: 'rejected',
      sha256: '',
      totals: { rows: 0 },
      fileError: { rule: 'file_too_large', message: `file is ${Buffer.byteLength(content)} bytes, above the limit of 2000 bytes (limits.maxFileBytes for tiny); not read` },
    });
    expect(await h.db.certificate.count({ where: { vin } })).toBe(0);
  });

  it('keeps polling while the SFTP server is down and takes the file once it is back', async () => {
    const poller = inboxPoller(h.client, h.taskQueue);
    await sshd.stop();
    const vin = nextVin();
    deliver(inbox, 'acme/during-outage.csv', [CSV_HEADER, csvRow(vin), ''].join('\n'));
    let state: InboxState | undefined;
    await waitFor(
      async () => {
        state = await poller.query(inboxStateQuery);
        return state.lastError?.message.includes('listing the inbox') === true;
      },
      { timeoutMs: 120_000, what: 'a failed poll while sshd is down' },
    );
    // Refused (new connection) or reset (a connection the stopped server dropped): either way the SFTP side.
    expect(state!.lastError!.message).toMatch(/server unavailable|ECONNREFUSED|ECONNRESET|connection|closed|ended/i);

    await sshd.start();
    await waitFor(async () => present(inbox, 'acme/processed/during-outage.csv'), { timeoutMs: 240_000, what: 'the file taken after the outage' });
    // The failed listing may be retried within the same poll once sshd is back, or in the next poll.
    await waitFor(async () => (await poller.query(inboxStateQuery)).lastError === undefined, { timeoutMs: 120_000, what: 'a clean poll' });
    await h.waitForStatus(certificateWorkflowId(vin, 1), 'in_review', 180_000);
  });

  it('streams a 10,000-row file, reporting every row and sending progress to the poller', async () => {
    const vins = [nextVin(), nextVin()];
    // Two good rows; the rest fail on the mass column, so the test exercises streaming, not 10,000 workflows.
    const lines = [CSV_HEADER, csvRow(vins[0]!), ...Array.from({ length: 9_998 }, (_, i) => csvRow(`WVWBULK${String(i).padStart(10, '0')}`, 'n/a')), csvRow(vins[1]!)];
    deliver(inbox, 'acme/bulk.csv', `${lines.join('\n')}\n`);
    const state = await poll();
    expect(state.recent.at(-1)).toMatchObject({ name: 'bulk.csv', disposition: 'processed', rows: 10_000, accepted: 2, rejected: 9_998 });
    const report = readReport(inbox, 'acme/processed/bulk.csv');
    expect(report.rows).toHaveLength(10_000);
    expect(report.rows[5_000]).toEqual({ row: 5_002, status: 'rejected', vin: 'WVWBULK0000004999', errors: [{ column: 'Actual mass (kg)', value: 'n/a', rule: 'number', message: expect.any(String) }] });

    // Progress reached the workflow as signals: the first at once, then at most one a second.
    const poller = inboxPoller(h.client, h.taskQueue);
    const progress: { name: string; phase: string; rowsDone: number }[] = [];
    const history = await poller.fetchHistory();
    for (const event of history.events ?? []) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      if (signal?.signalName !== 'inboxProgress') continue;
      progress.push(JSON.parse(Buffer.from(signal.input!.payloads![0]!.data!).toString()) as (typeof progress)[number]);
    }
    const bulk = progress.filter((p) => p.name === 'bulk.csv');
    expect(bulk.length).toBeGreaterThan(0);
    expect(bulk.every((p, i) => i === 0 || p.rowsDone >= bulk[i - 1]!.rowsDone)).toBe(true);
    expect(bulk.every((p) => p.rowsDone <= 10_000)).toBe(true);
    await h.waitForStatus(certificateWorkflowId(vins[1]!, 1), 'in_review', 180_000);
  });
});
