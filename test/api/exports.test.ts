import { parse } from 'csv-parse/sync';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../api/app.ts';
import { listen, type RunningApi } from '../../api/server.ts';
import { recordAudit } from '../../audit/chain.ts';
import { createApiKey } from '../../auth/api-keys.ts';
import { createLogger } from '../../platform/logger.ts';
import { startAuditStack, type AuditStack } from '../support/audit.ts';

/** What a spreadsheet would run: the OWASP example of a CSV injection payload. */
const FORMULA = "=cmd|' /C calc'!A0";

/**
 * CSV exports of the real API over a real database: the certificate list's filters and scope,
 * the audit trail's scope, streaming across pages, and cells a spreadsheet would run as formulas.
 */
describe('CSV exports', () => {
  let stack: AuditStack;
  let api: RunningApi;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startAuditStack({ ECOC_API_RATE_PER_SECOND: '10000', ECOC_API_RATE_BURST: '10000' });
    const { db } = stack;
    await db.manufacturer.createMany({ data: [{ id: 'acme', name: 'ACME' }, { id: 'beta', name: 'Beta Trucks' }] });
    const certificate = (n: number, manufacturerId: string, extra: Record<string, unknown> = {}) => {
      const vin = `${manufacturerId.toUpperCase()}${String(n).padStart(13, '0')}`;
      return { id: `ecoc-${vin}-s1`, manufacturerId, vin, stage: 1, typeApprovalNumber: 'e6*2018/858*00264*01', variant: 'V1', version: 'A', destination: 'nap-de', status: 'awaiting_release', ...extra };
    };
    // More than one export page (1 000 rows) of ACME, a few hostile cells, and Beta's rows nobody scoped to ACME may see.
    await db.certificate.createMany({
      data: [
        ...Array.from({ length: 1_203 }, (_, index) => certificate(index + 1, 'acme')),
        certificate(5_001, 'acme', { status: 'in_review', owner: FORMULA, variant: '+SUM(A1:A9)', version: '@import', destination: null }),
        certificate(5_002, 'acme', { status: 'blocked', variant: '-2+3', version: '\tx', owner: '\rcr' }),
        certificate(1, 'beta', { status: 'in_review' }),
      ],
    });
    await recordAudit(db, [
      { entryKey: null, occurredAt: new Date(), actor: FORMULA, action: 'status:approved', certificateId: 'ecoc-ACME0000000005001-s1', detail: { note: '=HYPERLINK("http://x")' } },
      { entryKey: null, occurredAt: new Date(), actor: 'bert', action: 'status:approved', certificateId: 'ecoc-BETA0000000000001-s1', detail: {} },
    ]);
    const { app } = createApp({
      db,
      client: stack.client,
      taskQueue: stack.config.ECOC_TASK_QUEUE,
      review: { escalateAfterMs: 3_600_000, expireAfterMs: 7_200_000, escalationOwner: 'lead' },
      config: stack.config,
      logger: createLogger('silent'),
      readinessProbes: {},
      metrics: new Registry(),
      oidc: undefined,
    });
    api = await listen(app, '127.0.0.1', 0);
    const key = async (subject: string, roles: ('ops' | 'reviewer')[], manufacturers: string[]) => (await createApiKey(db, { subject, roles, manufacturers, createdBy: 'test' })).token;
    tokens.acmeReviewer = await key(FORMULA, ['reviewer'], ['acme']);
    tokens.acmeOps = await key('olga', ['ops'], ['acme']);
    tokens.allOps = await key('otto', ['ops'], ['*']);
  });
  afterAll(async () => {
    await api?.stop();
    await stack?.stop();
  });

  const get = (path: string, token: string) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const csv = async (response: Response) => parse(await response.text(), { columns: true }) as Record<string, string>[];

  test('the certificate export has every row the list has for the same filters and scope, across pages', async () => {
    const response = await get('/api/v1/certificates/export.csv?status=awaiting_release&destination=nap-de', tokens.acmeReviewer!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="certificates.csv"');
    const rows = await csv(response);
    expect(rows).toHaveLength(1_203);
    expect(new Set(rows.map((row) => row.manufacturerId))).toEqual(new Set(['acme']));

    const listed: { id: string }[] = [];
    for (let after: string | null = ''; after !== null; ) {
      const page = (await (await get(`/api/v1/certificates?status=awaiting_release&destination=nap-de&limit=500${after ? `&after=${after}` : ''}`, tokens.acmeReviewer!)).json()) as { items: { id: string }[]; nextCursor: string | null };
      listed.push(...page.items);
      after = page.nextCursor;
    }
    expect(rows.map((row) => row.id)).toEqual(listed.map((item) => item.id));
    expect(Object.keys(rows[0]!)).toEqual(['id', 'manufacturerId', 'vin', 'stage', 'typeApprovalNumber', 'variant', 'version', 'destination', 'status', 'owner', 'dataVersion', 'messageVersion', 'batchId', 'reviewDeadline', 'statusChangedAt', 'createdAt']);
  });

  test('cells that a spreadsheet would run as a formula start with a quote', async () => {
    const rows = await csv(await get('/api/v1/certificates/export.csv?status=in_review&status=blocked', tokens.acmeReviewer!));
    expect(rows.map((row) => row.id).sort()).toEqual(['ecoc-ACME0000000005001-s1', 'ecoc-ACME0000000005002-s1']);
    const [inReview, blocked] = rows.sort((a, b) => a.id!.localeCompare(b.id!));
    expect(inReview).toMatchObject({ owner: `'${FORMULA}`, variant: "'+SUM(A1:A9)", version: "'@import", destination: '' });
    expect(blocked).toMatchObject({ variant: "'-2+3", version: "'\tx", owner: "'\rcr" });
  });

  test('console work queues and the other list filters apply; an empty result is the header alone', async () => {
    const queue = await csv(await get('/api/v1/certificates/export.csv?queue=blocked', tokens.acmeReviewer!));
    expect(queue.map((row) => row.id)).toEqual(['ecoc-ACME0000000005002-s1']);
    const owner = await csv(await get(`/api/v1/certificates/export.csv?owner=${encodeURIComponent(FORMULA)}`, tokens.acmeReviewer!));
    expect(owner.map((row) => row.id)).toEqual(['ecoc-ACME0000000005001-s1']);
    const foreign = await get('/api/v1/certificates/export.csv?manufacturerId=beta', tokens.acmeReviewer!);
    expect(foreign.status).toBe(200);
    expect(await foreign.text()).toBe('id,manufacturerId,vin,stage,typeApprovalNumber,variant,version,destination,status,owner,dataVersion,messageVersion,batchId,reviewDeadline,statusChangedAt,createdAt\r\n');
    const bad = await get('/api/v1/certificates/export.csv?status=nonsense', tokens.acmeReviewer!);
    expect(bad.status).toBe(400);
  });

  test('the audit CSV has the NDJSON export’s records and scope, and neutralises formulas in actors and details', async () => {
    const scoped = await csv(await get('/api/v1/audit/export.csv', tokens.acmeOps!));
    expect(new Set(scoped.map((row) => row.certificateId))).toEqual(new Set(['ecoc-ACME0000000005001-s1']));
    const approved = scoped.find((row) => row.action === 'status:approved')!;
    expect(approved.actor).toBe(`'${FORMULA}`);
    expect(JSON.parse(approved.detail!)).toEqual({ note: '=HYPERLINK("http://x")' });

    const all = await get('/api/v1/audit/export.csv', tokens.allOps!);
    const rows = await csv(all);
    const ndjson = (await (await get('/api/v1/audit/export', tokens.allOps!)).text()).trim().split('\n').map((line) => JSON.parse(line) as { id: string; hash: string });
    // The NDJSON export's own record comes after the CSV's: the CSV has every record up to its own.
    expect(rows.map((row) => [row.id, row.hash])).toEqual(ndjson.slice(0, rows.length).map((record) => [record.id, record.hash]));
    expect(rows.some((row) => row.certificateId === 'ecoc-BETA0000000000001-s1')).toBe(true);
    expect(rows.at(-1)).toMatchObject({ action: 'api:audit_export', actor: 'otto', chain: 'hub' });
    expect(JSON.parse(rows.at(-1)!.detail!)).toMatchObject({ format: 'csv' });

    expect((await get('/api/v1/audit/export.csv?certificateId=ecoc-BETA0000000000001-s1', tokens.acmeOps!)).status).toBe(404);
    expect((await get('/api/v1/audit/export.csv', tokens.acmeReviewer!)).status).toBe(403);
  });

  test('the certificate export is recorded in the audit trail with its filter', async () => {
    const records = await stack.db.auditRecord.findMany({ where: { action: 'api:certificates_export' }, orderBy: { id: 'asc' } });
    expect(records.length).toBeGreaterThan(0);
    expect(records[0]).toMatchObject({ actor: FORMULA.toLowerCase(), chain: 'hub' });
    expect((records[0]!.detail as { filter: unknown }).filter).toEqual({ status: ['awaiting_release'], destination: 'nap-de' });
  });
});
