import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditRecords } from '../../audit/chain.ts';
import { ingestVehicle } from '../../certificates/ingest.ts';
import { startWebhookDispatcher, type WebhookDispatcher } from '../../events/dispatcher.ts';
import { loadWebhookEndpoints, WebhookConfigError } from '../../events/endpoints.ts';
import { watchSigningCertificate } from '../../events/signing-certificate.ts';
import type { WebhookPayload } from '../../schemas/events.ts';
import { SigningCertificateMonitor } from '../../signing/certificate-monitor.ts';
import { approveUpdate, releaseNowUpdate } from '../../workflows/certificate/definitions.ts';
import { startApiHarness, type ApiHarness } from '../support/api.ts';
import { actors, nextVin, specimenRecord } from '../support/lifecycle.ts';

interface Received {
  endpoint: string;
  id: string;
  payload: WebhookPayload;
  status: number;
}

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Signed webhooks over the real stack: the lifecycle (Temporal, PostgreSQL, NAP simulator), the
 * dispatcher as the worker runs it, and receivers that are real local HTTP servers verifying every
 * signature with the Standard Webhooks library.
 */
describe('webhook events', () => {
  let stack: ApiHarness;
  let dispatcher: WebhookDispatcher;
  let receiver: Server;
  let garbage: TcpServer;
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-webhooks-'));
  const secrets = { main: secret(), flaky: secret(), slow: secret(), garbage: secret() };
  const received: Received[] = [];
  const badSignatures: string[] = [];
  const logLines: Record<string, unknown>[] = [];
  const calls = { flaky: 0, slow: 0, garbage: 0 };
  const metrics = new Registry();

  const accepted = (endpoint: string) => received.filter((entry) => entry.endpoint === endpoint && entry.status < 300);

  beforeAll(async () => {
    const verifiers = Object.fromEntries(Object.entries(secrets).map(([name, value]) => [name, new Webhook(value)]));
    receiver = createHttpServer((req, res) => {
      void readBody(req).then((body) => {
        const endpoint = req.url!.slice(1) as 'main' | 'flaky' | 'slow';
        try {
          verifiers[endpoint]!.verify(body, req.headers as Record<string, string>);
        } catch {
          badSignatures.push(endpoint);
          res.writeHead(400).end();
          return;
        }
        const entry = (status: number) => received.push({ endpoint, id: req.headers['webhook-id'] as string, payload: JSON.parse(body) as WebhookPayload, status });
        if (endpoint === 'flaky' && ++calls.flaky <= 2) {
          entry(500);
          res.writeHead(500).end('try again');
        } else if (endpoint === 'slow' && ++calls.slow === 1) {
          // Answers long after the dispatcher's timeout: this attempt counts as failed.
          entry(599);
          setTimeout(() => res.writeHead(200).end(), 6_000).unref();
        } else {
          entry(204);
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as { port: number }).port;
    // Not HTTP at all the first time, then a proper answer.
    garbage = createTcpServer((socket) => {
      if (++calls.garbage === 1) socket.end('%%% not http %%%\r\n\r\n');
      else socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const garbagePort = (garbage.address() as { port: number }).port;

    const secretFile = (name: keyof typeof secrets) => {
      const file = join(dir, `${name}.secret`);
      writeFileSync(file, `${secrets[name]}\n`);
      return file;
    };
    const webhooksFile = join(dir, 'webhooks.json');
    writeFileSync(
      webhooksFile,
      JSON.stringify([
        { id: 'main', url: `http://127.0.0.1:${port}/main`, secretFile: secretFile('main') },
        { id: 'flaky', url: `http://127.0.0.1:${port}/flaky`, secretFile: secretFile('flaky'), events: ['release_run.finished'] },
        { id: 'slow', url: `http://127.0.0.1:${port}/slow`, secretFile: secretFile('slow'), events: ['certificate.blocked'] },
        { id: 'garbage', url: `http://127.0.0.1:${garbagePort}/hook`, secretFile: secretFile('garbage'), events: ['certificate.blocked'] },
        { id: 'other-manufacturer', url: `http://127.0.0.1:${port}/main`, secretFile: secretFile('main'), manufacturers: ['beta'] },
      ]),
    );
    stack = await startApiHarness({
      env: {
        ECOC_WEBHOOKS_FILE: webhooksFile,
        ECOC_WEBHOOK_TIMEOUT: '2s',
        ECOC_WEBHOOK_POLL_INTERVAL: '100ms',
        ECOC_WEBHOOK_RETRY_INITIAL: '200ms',
        ECOC_WEBHOOK_RETRY_MAX: '1s',
      },
    });
    const config = stack.lifecycle.config;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    dispatcher = startWebhookDispatcher({ db: stack.lifecycle.db, endpoints: loadWebhookEndpoints(config.ECOC_WEBHOOKS_FILE), settings: config, logger: pino({ level: 'info' }, sink), registry: metrics });
  });

  afterAll(async () => {
    await dispatcher?.stop();
    await stack?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
    garbage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends each occurrence once, signed: blocked, escalated and expired, acknowledged, release run finished, signing certificate expiring', async () => {
    const { lifecycle } = stack;
    // Blocked: data that breaks a content rule.
    const blockedRecord = specimenRecord(nextVin());
    (blockedRecord.values as Record<string, unknown>).VehicleCategory = 'M2';
    const blocked = await lifecycle.ingest(blockedRecord);
    // Escalated after a second, expired after three: its own review policy.
    const review = { ...lifecycle.review, escalateAfterMs: 1_000, expireAfterMs: 3_000 };
    const lapsed = await ingestVehicle({ db: lifecycle.db, client: lifecycle.client, taskQueue: lifecycle.taskQueue, review, destinations: lifecycle.destinations }, specimenRecord(nextVin()), actors.erp, 'erp');
    // Delivered now (a release run of one) and acknowledged at once by the NAP.
    const delivered = await lifecycle.ingest(specimenRecord(nextVin()));
    const state = await lifecycle.waitForStatus(delivered.certificateId, 'in_review');
    const handle = lifecycle.client.workflow.getHandle(delivered.certificateId);
    await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
    await lifecycle.waitForStatus(delivered.certificateId, 'awaiting_release');
    await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
    const done = await lifecycle.waitForStatus(delivered.certificateId, 'acknowledged');
    // The signing certificate inside a warning window that large: expiring.
    const watch = watchSigningCertificate({ db: lifecycle.db, monitor: new SigningCertificateMonitor({ certificatePem: lifecycle.signer.certificatePem, warnDays: 100_000, registry: new Registry() }), logger: pino({ level: 'silent' }) });
    await lifecycle.waitForStatus(lapsed.certificateId, 'rejected', 30_000);

    const expected = [
      ['certificate.blocked', blocked.certificateId],
      ['review.escalated', lapsed.certificateId],
      ['review.expired', lapsed.certificateId],
      ['acknowledgement.received', delivered.certificateId],
      ['release_run.finished', undefined],
      ['signing_certificate.expiring', undefined],
    ] as const;
    await expect
      .poll(() => expected.filter(([type, certificateId]) => accepted('main').some((entry) => entry.payload.type === type && (certificateId === undefined || entry.payload.data.certificateId === certificateId))).length, { timeout: 30_000 })
      .toBe(expected.length);
    watch.stop();

    // A retried step writes its audit entry again: the entry key is known, so no second event.
    const escalation = await lifecycle.db.auditRecord.findFirstOrThrow({ where: { certificateId: lapsed.certificateId, action: 'review_escalated' } });
    await lifecycle.db.$transaction((tx) =>
      appendAuditRecords(tx, [{ entryKey: escalation.entryKey, occurredAt: escalation.occurredAt, actor: escalation.actor, action: escalation.action, certificateId: escalation.certificateId, detail: escalation.detail as Record<string, unknown> }]),
    );
    const allEvents = await lifecycle.db.webhookEvent.findMany();
    expect(allEvents.filter((event) => event.id === escalation.entryKey)).toHaveLength(1);
    await expect.poll(async () => lifecycle.db.webhookDelivery.count({ where: { endpointId: 'main', status: { not: 'delivered' } } }), { timeout: 10_000 }).toBe(0);

    // Every signature verified; one event per occurrence, its id the audit entry key of the occurrence.
    expect(badSignatures).toEqual([]);
    const ids = [...new Set(accepted('main').map((entry) => entry.id))].sort();
    expect(ids).toEqual(allEvents.map((event) => event.id).sort());
    const entryKeys = new Set((await lifecycle.db.auditRecord.findMany({ where: { entryKey: { in: ids } } })).map((record) => record.entryKey));
    expect(entryKeys.size).toBe(ids.length);
    for (const [type, certificateId] of expected) {
      const occurrence = accepted('main').filter((entry) => entry.payload.type === type && (certificateId === undefined || entry.payload.data.certificateId === certificateId));
      expect(new Set(occurrence.map((entry) => entry.id)).size, type).toBe(1);
    }
    // Delivered once each: one successful attempt per event. The receiver sees a repeat (same webhook-id, to dedupe)
    // only after an attempt whose answer the dispatcher did not get in time, and every call it saw is in the log.
    for (const delivery of await lifecycle.db.webhookDelivery.findMany({ where: { endpointId: 'main' }, include: { history: true } })) {
      expect(delivery.status).toBe('delivered');
      expect(delivery.history.filter((attempt) => attempt.error === null)).toHaveLength(1);
      const calls = received.filter((entry) => entry.endpoint === 'main' && entry.id === delivery.eventId).length;
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(delivery.history.length);
    }

    const byType = (type: string, certificateId?: string) =>
      accepted('main').find((entry) => entry.payload.type === type && (certificateId === undefined || entry.payload.data.certificateId === certificateId))!.payload;
    expect(byType('certificate.blocked', blocked.certificateId).data).toMatchObject({
      vin: blockedRecord.vin,
      manufacturerId: 'acme',
      status: 'blocked',
      findings: expect.arrayContaining([expect.objectContaining({ ruleId: expect.any(String), path: expect.stringMatching(/^CocDataGroup/), owner: expect.any(String) })]),
    });
    expect(byType('review.escalated', lapsed.certificateId).data).toMatchObject({ owner: lifecycle.review.escalationOwner, status: 'in_review' });
    expect(byType('review.expired', lapsed.certificateId).data).toMatchObject({ status: 'rejected', reason: 'review deadline expired' });
    expect(byType('acknowledgement.received', delivered.certificateId).data).toMatchObject({ status: 'acknowledged', receipt: { destination: done.receipts[0]!.destination, reference: done.receipts[0]!.reference } });
    expect(byType('release_run.finished').data).toMatchObject({ destination: done.receipts[0]!.destination, delivered: 1, failed: 0 });
    expect(byType('signing_certificate.expiring').data).toMatchObject({ fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), notAfter: expect.any(String) });
    // An endpoint for another manufacturer gets none of acme's certificate events, and no hub events.
    expect(await lifecycle.db.webhookDelivery.count({ where: { endpointId: 'other-manufacturer' } })).toBe(0);
  });

  it('retries an endpoint that answered 500 twice, then it receives the event once; the delivery log shows every attempt', async () => {
    await expect.poll(() => accepted('flaky').length, { timeout: 15_000 }).toBe(1);
    const run = received.filter((entry) => entry.endpoint === 'flaky');
    expect(run.map((entry) => entry.status)).toEqual([500, 500, 204]);
    expect(new Set(run.map((entry) => entry.id)).size).toBe(1);
    // The receiver records the 204 before the dispatcher has read it, stored the attempt and counted it (in that order).
    const flaky = async () => {
      const counted = await metrics.getSingleMetric('ecoc_webhook_attempts_total')!.get();
      return ['retry', 'delivered'].map((outcome) => counted.values.find((value) => value.labels.endpoint === 'flaky' && value.labels.outcome === outcome)?.value);
    };
    await expect.poll(flaky, { timeout: 15_000 }).toEqual([2, 1]);

    const ops = await stack.key('olga', ['ops'], ['*']);
    const log = await stack.call('GET', '/api/v1/webhooks/deliveries?endpointId=flaky', { token: ops });
    expect(log.status).toBe(200);
    expect(log.json.items).toHaveLength(1);
    expect(log.json.items[0]).toMatchObject({ eventId: run[0]!.id, type: 'release_run.finished', status: 'delivered', attempts: 3, lastStatusCode: 204, lastError: null });
    expect(log.json.items[0].history.map((attempt: { statusCode: number | null; error: string | null }) => [attempt.statusCode, attempt.error])).toEqual([
      [500, 'http_status'],
      [500, 'http_status'],
      [204, null],
    ]);
    // Scoped to one manufacturer: that manufacturer's certificate events only, no hub events.
    const scoped = await stack.call('GET', '/api/v1/webhooks/deliveries?endpointId=flaky', { token: await stack.key('otto', ['ops'], ['acme']) });
    expect(scoped.json.items).toEqual([]);
    const reviewer = await stack.call('GET', '/api/v1/webhooks/deliveries', { token: await stack.key('rita', ['reviewer']) });
    expect(reviewer.status).toBe(403);
  });

  it('an endpoint that times out or answers garbage gets a clear log line, is retried, and loses nothing', async () => {
    await expect.poll(() => accepted('slow').length, { timeout: 15_000 }).toBe(1);
    const deliveries = async () => stack.lifecycle.db.webhookDelivery.findMany({ where: { endpointId: { in: ['slow', 'garbage'] } }, include: { history: { orderBy: { attempt: 'asc' } } } });
    await expect.poll(async () => (await deliveries()).map((delivery) => delivery.status), { timeout: 15_000 }).toEqual(['delivered', 'delivered']);
    const [first, second] = await deliveries();
    for (const delivery of [first!, second!]) {
      expect(delivery.history[0]!.error).toBe(delivery.endpointId === 'slow' ? 'timeout' : 'network');
      expect(delivery.history.at(-1)!.error).toBeNull();
    }
    const warnings = logLines.filter((line) => line.msg === 'webhook not delivered; will retry');
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ endpoint: 'slow', error: 'timeout', type: 'certificate.blocked', retryInMs: expect.any(Number) }),
        expect.objectContaining({ endpoint: 'garbage', error: 'network', type: 'certificate.blocked', detail: expect.any(String) }),
      ]),
    );
    // Never the secret or the URL in a log line.
    const text = JSON.stringify(logLines);
    for (const value of Object.values(secrets)) expect(text).not.toContain(value.slice('whsec_'.length));
  });

  it('a message the NAP refuses is delivery.rejected (with the NAP’s code) and, the certificate failing, delivery.failed', async () => {
    const { lifecycle } = stack;
    const release = async (record: ReturnType<typeof specimenRecord>) => {
      const { certificateId } = await lifecycle.ingest(record);
      const state = await lifecycle.waitForStatus(certificateId, 'in_review');
      const handle = lifecycle.client.workflow.getHandle(certificateId);
      await handle.executeUpdate(approveUpdate, { args: [{ actor: actors.rita, dataVersion: state.dataVersion }] });
      await lifecycle.waitForStatus(certificateId, 'awaiting_release');
      await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: actors.release }] });
      return certificateId;
    };
    // The NAP keeps one message line per VIN: stage 2's first message (version 1) after stage 1's is not an increase.
    const vin = nextVin();
    await lifecycle.waitForStatus(await release(specimenRecord(vin)), 'acknowledged');
    const refused = await release(specimenRecord(vin, { stage: 2 }));
    const failed = await lifecycle.waitForStatus(refused, 'failed');
    const of = (type: string) => accepted('main').filter((entry) => entry.payload.type === type && entry.payload.data.certificateId === refused);
    await expect.poll(() => [of('delivery.rejected').length > 0, of('delivery.failed').length > 0], { timeout: 20_000 }).toEqual([true, true]);
    expect(new Set(of('delivery.rejected').map((entry) => entry.id)).size).toBe(1);
    expect(new Set(of('delivery.failed').map((entry) => entry.id)).size).toBe(1);
    expect(of('delivery.rejected')[0]!.payload.data).toMatchObject({ vin, stage: 2, destination: failed.destination, iviReferenceId: failed.iviReferenceId, messageVersion: 1, code: 'VERSION_NOT_INCREASING', phase: 'delivery' });
    expect(of('delivery.failed')[0]!.payload.data).toMatchObject({ vin, status: 'failed', reason: expect.stringContaining('VERSION_NOT_INCREASING') });
  });

  it('refuses a webhooks file with a bad secret or entry at start, naming the variable and the entry', () => {
    const file = join(dir, 'bad.json');
    const weak = join(dir, 'weak.secret');
    writeFileSync(weak, 'whsec_c2hvcnQ=');
    writeFileSync(file, JSON.stringify([{ id: 'weak', url: 'http://127.0.0.1:1/x', secretFile: weak }]));
    expect(() => loadWebhookEndpoints(file)).toThrow(WebhookConfigError);
    expect(() => loadWebhookEndpoints(file)).toThrow(/ECOC_WEBHOOKS_FILE: .*endpoint "weak": secretFile .*24 to 64 bytes/);
    writeFileSync(file, JSON.stringify([{ id: 'x', url: 'ftp://example.org', secretFile: weak, events: ['certificate.exploded'] }]));
    expect(() => loadWebhookEndpoints(file)).toThrow(/\[0\.url\][\s\S]*\[0\.events\.0\]/);
  });
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
