import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../api/app.ts';
import { listen, type RunningApi } from '../../api/server.ts';
import { createApiKey } from '../../auth/api-keys.ts';
import { createLogger } from '../../platform/logger.ts';
import { startAuditStack, type AuditStack } from '../support/audit.ts';

/**
 * The audit routes of the real API on the audit stack: the export's scope check (issue
 * "Controls that hold", medium item) and verification over HTTP.
 */
describe('audit API', () => {
  let stack: AuditStack;
  let api: RunningApi;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startAuditStack({ ECOC_API_RATE_PER_SECOND: '10000', ECOC_API_RATE_BURST: '10000' });
    const { db } = stack;
    await db.manufacturer.createMany({ data: [{ id: 'acme', name: 'ACME' }, { id: 'beta', name: 'Beta Trucks' }] });
    const certificate = (id: string, manufacturerId: string, vin: string) => ({ id, manufacturerId, vin, stage: 1, typeApprovalNumber: 'e6*2018/858*00264*01', variant: 'V1', version: 'A' });
    await db.certificate.createMany({ data: [certificate('ecoc-ACME0000000000001-s1', 'acme', 'ACME0000000000001'), certificate('ecoc-BETA0000000000001-s1', 'beta', 'BETA0000000000001')] });
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
    tokens.acmeOps = (await createApiKey(db, { subject: 'olga', roles: ['ops'], manufacturers: ['acme'], createdBy: 'test' })).token;
    tokens.allOps = (await createApiKey(db, { subject: 'otto', roles: ['ops'], manufacturers: ['*'], createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await api?.stop();
    await stack?.stop();
  });

  const get = (path: string, token: string) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const exports = () => stack.db.auditRecord.findMany({ where: { action: 'api:audit_export' }, orderBy: { id: 'asc' } });

  test('exporting another manufacturer’s certificate is 404 like any foreign certificate, and writes nothing into that manufacturer’s trail', async () => {
    for (const certificateId of ['ecoc-BETA0000000000001-s1', 'ecoc-NOSUCH000000000001-s1', '<script>alert(1)</script>']) {
      const response = await get(`/api/v1/audit/export?certificateId=${encodeURIComponent(certificateId)}`, tokens.acmeOps!);
      expect(response.status, certificateId).toBe(404);
      expect((await response.json()) as object).toMatchObject({ code: 'not_found' });
    }
    expect(await exports()).toEqual([]);
    expect(await stack.db.auditRecord.count({ where: { chain: 'certificate:ecoc-BETA0000000000001-s1' } })).toBe(0);
    expect(await stack.db.auditRecord.count({ where: { OR: [{ certificateId: { contains: 'script' } }, { chain: { contains: 'script' } }] } })).toBe(0);
  });

  test('exporting one’s own certificate records the export in that certificate’s chain, with only what the caller may see', async () => {
    const response = await get('/api/v1/audit/export?certificateId=ecoc-ACME0000000000001-s1&from=2026-01-01T00:00:00Z', tokens.acmeOps!);
    expect(response.status).toBe(200);
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as { action: string; chain: string; seq: number; recordedAt: string });
    // The export's own record is written before the stream starts, so it is in the stream.
    expect(lines).toEqual([expect.objectContaining({ action: 'api:audit_export', chain: 'certificate:ecoc-ACME0000000000001-s1', seq: 1, recordedAt: expect.any(String) })]);
    const [recorded] = await exports();
    expect(recorded).toMatchObject({ chain: 'certificate:ecoc-ACME0000000000001-s1', certificateId: 'ecoc-ACME0000000000001-s1', actor: 'olga' });
    expect((recorded!.detail as { filter: unknown }).filter).toEqual({ certificateId: 'ecoc-ACME0000000000001-s1', from: '2026-01-01T00:00:00Z' });
  });

  test('GET /api/v1/audit/verify answers ok for the intact trail and names the problem after tampering', async () => {
    await stack.checkpoint();
    const intact = await get('/api/v1/audit/verify', tokens.allOps!);
    expect(intact.status).toBe(200);
    expect(await intact.json()).toMatchObject({ ok: true, checkpoints: { checked: 1 }, witness: { workflow: { checked: 1 } }, problems: [] });
    const scoped = await get('/api/v1/audit/verify', tokens.acmeOps!);
    expect(scoped.status).toBe(403);

    await stack.tamper(`UPDATE audit_record SET actor = 'mallory' WHERE action = 'api:audit_export'`);
    const broken = (await (await get('/api/v1/audit/verify', tokens.allOps!)).json()) as { ok: boolean; firstInvalid: object };
    expect(broken.ok).toBe(false);
    expect(broken.firstInvalid).toMatchObject({ kind: 'content_altered', chain: 'certificate:ecoc-ACME0000000000001-s1', seq: 1 });
  });
});
