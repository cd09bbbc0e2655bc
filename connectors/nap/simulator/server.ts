import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../../../platform/logger.ts';
import {
  buildFaultResponse,
  buildReceiptResponse,
  MAX_REQUEST_BYTES,
  NapEnvelopeError,
  parseRequest,
  versionFromContentType,
  type DeleteRequest,
  type HttpMessage,
  type NapFault,
  type SoapVersion,
  type SubmitRequest,
} from '../envelope.ts';
import { checkSubmittedIvi } from './checks.ts';
import { SimulatorStore } from './state.ts';

export interface NapSimulatorOptions {
  port: number;
  host?: string;
  /** PEM files: the server's certificate and key, and the CA that client certificates must chain to. */
  certFile: string;
  keyFile: string;
  caFile: string;
  stateDir: string;
  logger: Logger;
}

export interface NapSimulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A local stand-in for a National Access Point: HTTPS with mutual TLS (no client certificate
 * from its CA, no connection), the SOAP contract of `../envelope.ts`, and a NAP's realistic
 * answers. State survives restarts in `stateDir`.
 *
 * Endpoints: `POST /nap` (SOAP), `POST /admin/outage` `{"calls": n}` (answer the next n SOAP
 * calls with 503), `POST /admin/delay` `{"ms": n, "calls"?: k}` (process each SOAP call at once
 * but hold its answer n ms: a slow NAP; `"ms": "never"`: a NAP that accepts the message and never
 * answers, until the client hangs up; with `calls`, only the next k calls), `GET /admin/vins/<vin>`
 * (what was received), `GET /health`.
 */
export async function startNapSimulator(options: NapSimulatorOptions): Promise<NapSimulator> {
  const store = new SimulatorStore(options.stateDir);
  /** The next calls' scripted answer (`POST /admin/fault`); nothing is stored for them. */
  let scripted: Fault | undefined;
  const logger = options.logger.child({ component: 'nap-simulator' });
  // Not persisted: a test sets it for the calls it is about.
  let answerDelay: AnswerDelay | undefined;
  const server: Server = createServer(
    {
      cert: readFileSync(options.certFile),
      key: readFileSync(options.keyFile),
      ca: readFileSync(options.caFile),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        logger.error({ err: error }, 'simulator failure');
        if (!res.headersSent) res.writeHead(500).end();
      });
    },
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://nap').pathname;
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { ok: true });
    if (req.method === 'GET' && path.startsWith('/admin/vins/')) {
      const vin = decodeURIComponent(path.slice('/admin/vins/'.length));
      const entry = store.vin(vin);
      return entry ? sendJson(res, 200, entry) : sendJson(res, 404, { error: `no messages for VIN ${vin}` });
    }
    const body = await readBody(req);
    if (req.method === 'POST' && path === '/admin/outage') {
      const calls = Number((JSON.parse(body?.toString('utf8') ?? '{}') as { calls?: unknown }).calls);
      if (!Number.isInteger(calls) || calls < 0) return sendJson(res, 400, { error: 'expected {"calls": <non-negative integer>}' });
      store.state.outageRemaining = calls;
      store.save();
      return sendJson(res, 200, { outageRemaining: calls });
    }
    if (req.method === 'POST' && path === '/admin/delay') {
      const parsed = delaySchema.safeParse(JSON.parse(body?.toString('utf8') ?? '{}'));
      if (!parsed.success) return sendJson(res, 400, { error: `expected ${DELAY_SHAPE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
      answerDelay = parsed.data.ms === 0 ? undefined : parsed.data;
      return sendJson(res, 200, { answerDelay: answerDelay ?? null });
    }
    if (req.method === 'POST' && path === '/admin/fault') {
      const parsed = faultSchema.safeParse(JSON.parse(body?.toString('utf8') ?? '{}'));
      if (!parsed.success) return sendJson(res, 400, { error: `expected ${FAULT_SHAPE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
      scripted = parsed.data.calls > 0 ? parsed.data : undefined;
      return sendJson(res, 200, { fault: scripted ?? null });
    }
    if (req.method !== 'POST' || path !== '/nap') return sendJson(res, 404, { error: `no route ${req.method} ${path}` });

    const version = versionFromContentType(req.headers['content-type']);
    if (scripted) {
      const answer = scripted;
      if (--answer.calls === 0) scripted = undefined;
      logger.info({ status: answer.status, body: answer.body, remaining: answer.calls }, 'simulated fault');
      return sendFaultMode(res, answer, version);
    }
    if (store.state.outageRemaining > 0) {
      store.state.outageRemaining -= 1;
      store.save();
      logger.info({ remaining: store.state.outageRemaining }, 'simulated outage: 503');
      const fault = buildFaultResponse({ party: 'receiver', code: 'TEMPORARILY_UNAVAILABLE', message: 'the NAP is temporarily unavailable' }, version);
      return send(res, 503, fault, { 'retry-after': '1' });
    }
    if (body === undefined) return sendFault(res, { party: 'sender', code: 'MALFORMED_REQUEST', message: `request larger than ${MAX_REQUEST_BYTES} bytes` }, version);
    let request;
    try {
      request = parseRequest(body);
    } catch (error) {
      if (error instanceof NapEnvelopeError) return sendFault(res, { party: 'sender', code: 'MALFORMED_REQUEST', message: error.message }, version);
      throw error;
    }
    const answer = request.operation === 'SubmitIvi' ? submit(request, version) : remove(request, version);
    const held = answerDelay;
    if (held?.calls !== undefined && --held.calls === 0) answerDelay = undefined;
    logger.info({ operation: request.operation, vin: request.vin, status: answer.status, held: held?.ms ?? 0 }, 'NAP call');
    // The call is done (stored) already: a client that gives up meanwhile gets no answer at all.
    if (held && !(await answerHeld(res, held.ms))) return;
    return send(res, answer.status, answer.message);
  }

  function submit(request: SubmitRequest, version: SoapVersion): { status: number; message: HttpMessage } {
    const sha256 = createHash('sha256').update(request.xml).digest('hex');
    const known = store.findReference(request.iviReferenceId);
    if (known) {
      if (known.vin === request.vin && known.message.sha256 === sha256) {
        const { receiptId, receivedAt, iviReferenceId } = known.message;
        return { status: 200, message: buildReceiptResponse('SubmitIvi', { receiptId, vin: request.vin, iviReferenceId, receivedAt, replayed: true }, version) };
      }
      return fault({ party: 'sender', code: 'DUPLICATE_REFERENCE_ID', message: `IviReferenceId ${request.iviReferenceId} was already used for a different message` }, version);
    }
    const checked = checkSubmittedIvi(request);
    if ('fault' in checked) return fault(checked.fault, version);
    const entry = store.vin(request.vin) ?? { messages: [] };
    const latest = Math.max(0, ...entry.messages.map((m) => m.iviVersionNumber));
    if (request.iviVersionNumber <= latest) {
      return fault({ party: 'sender', code: 'VERSION_NOT_INCREASING', message: `IviVersionNumber ${request.iviVersionNumber} is not greater than ${latest}, the latest received for VIN ${request.vin}` }, version);
    }
    const receipt = { receiptId: `NAP-${randomUUID()}`, vin: request.vin, iviReferenceId: request.iviReferenceId, receivedAt: new Date().toISOString(), replayed: false };
    store.saveMessage(receipt.receiptId, request.xml);
    entry.messages.push({ receiptId: receipt.receiptId, iviReferenceId: request.iviReferenceId, iviVersionNumber: request.iviVersionNumber, sha256, receivedAt: receipt.receivedAt });
    delete entry.deleted;
    store.state.vins[request.vin] = entry;
    store.save();
    return { status: 200, message: buildReceiptResponse('SubmitIvi', receipt, version) };
  }

  function remove(request: DeleteRequest, version: SoapVersion): { status: number; message: HttpMessage } {
    const entry = store.vin(request.vin);
    if (!entry || entry.deleted) return fault({ party: 'sender', code: 'UNKNOWN_VIN', message: `no current IVI message for VIN ${request.vin}` }, version);
    const receipt = { receiptId: `NAP-${randomUUID()}`, vin: request.vin, receivedAt: new Date().toISOString(), replayed: false };
    entry.deleted = { receiptId: receipt.receiptId, at: receipt.receivedAt, reason: request.reason };
    store.save();
    return { status: 200, message: buildReceiptResponse('DeleteIvi', receipt, version) };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${options.host ?? '127.0.0.1'}:${port}/nap`;
  logger.info({ url }, 'NAP simulator listening');
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const FAULT_SHAPE = '{"calls": n, "status": 500..599 or 200, "body": "fault"|"malformed"|"oversized", "retryAfter"?: seconds}';
const faultSchema = z.object({
  calls: z.number().int().nonnegative(),
  status: z.number().int().min(200).max(599),
  /** `fault`: a SOAP receiver fault; `malformed`: not XML; `oversized`: more than any client reads. */
  body: z.enum(['fault', 'malformed', 'oversized']),
  retryAfter: z.number().int().nonnegative().optional(),
});
type Fault = z.infer<typeof faultSchema>;

const DELAY_SHAPE = '{"ms": 0..600000 or "never", "calls"?: n}';
const delaySchema = z.object({
  ms: z.union([z.number().int().min(0).max(600_000), z.literal('never')]),
  /** Only the next n calls are held; without it, every call until the delay is set again. */
  calls: z.number().int().positive().optional(),
});
type AnswerDelay = z.infer<typeof delaySchema>;

/** Resolves true once `ms` have passed, false when the client hangs up first (`never`: only that). */
function answerHeld(res: ServerResponse, ms: number | 'never'): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = ms === 'never' ? undefined : setTimeout(() => resolve(true), ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** Larger than the client's 1 MiB answer limit. */
const OVERSIZED_BYTES = 2 * 1024 * 1024;

function sendFaultMode(res: ServerResponse, value: Fault, version: SoapVersion): void {
  const headers: Record<string, string> = value.retryAfter === undefined ? {} : { 'retry-after': String(value.retryAfter) };
  if (value.body === 'fault') {
    const built = buildFaultResponse({ party: 'receiver', code: 'TEMPORARILY_UNAVAILABLE', message: 'scripted fault' }, version);
    return send(res, value.status, built, headers);
  }
  const contentType = { 'content-type': version === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8' };
  const payload = value.body === 'malformed' ? '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Receipt' : `<x>${'A'.repeat(OVERSIZED_BYTES)}</x>`;
  res.writeHead(value.status, { ...contentType, ...headers }).end(payload);
}

function fault(value: NapFault, version: SoapVersion): { status: number; message: HttpMessage } {
  const built = buildFaultResponse(value, version);
  return { status: built.status, message: built };
}

function sendFault(res: ServerResponse, value: NapFault, version: SoapVersion): void {
  const { status, message } = fault(value, version);
  send(res, status, message);
}

function send(res: ServerResponse, status: number, message: HttpMessage, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...message.headers, ...extra }).end(message.body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** The body, or undefined when it exceeds the request limit (the rest is drained, not kept). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks);
}
