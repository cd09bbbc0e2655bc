import { readFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../../platform/logger.ts';
import type { NapDestination } from '../../schemas/config/destinations.ts';
import { PermanentConnectorError, TemporarilyUnavailableError } from '../delivery/errors.ts';
import { buildRequest, NapEnvelopeError, parseResponse, readReceipt, type NapReceiptData, type NapRequest, type NapResponse } from './envelope.ts';

export type NapCallResult = { status: 'accepted'; receipt: NapReceiptData } | { status: 'rejected'; code: string; message: string };

export interface NapClient {
  call(request: NapRequest): Promise<NapCallResult>;
  close(): void;
}

export interface NapClientOptions {
  logger: Logger;
  timeoutMs: number;
}

/** TLS failures that retrying cannot fix: our certificate refused, or theirs not trusted. */
const TLS_PERMANENT = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERT_HAS_EXPIRED|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HANDSHAKE_FAILURE|ACCESS_DENIED/;

/**
 * SOAP over HTTPS with a TLS client certificate (separate from the signing certificate). Each
 * call is one HTTP request; the client does not retry (Temporal does) but says which failures
 * are worth retrying.
 */
export async function createNapClient(destination: NapDestination, options: NapClientOptions): Promise<NapClient> {
  const [cert, key, ca] = await Promise.all([
    readSecret(destination.clientCertFile, 'client certificate'),
    readSecret(destination.clientKeyFile, 'client key'),
    readSecret(destination.caFile, 'CA certificate'),
  ]);
  try {
    createSecureContext({ cert, key, ca });
  } catch (error) {
    throw new PermanentConnectorError(
      `${destination.id}: unusable TLS client credentials (${destination.clientCertFile}, ${destination.clientKeyFile}, ${destination.caFile}): ${(error as Error).message}`,
      'CLIENT_CERTIFICATE_INVALID',
      { cause: error },
    );
  }
  const agent = new Agent({ cert, key, ca, keepAlive: true, maxSockets: 4 });
  const logger = options.logger.child({ component: 'nap', destination: destination.id });
  const url = new URL(destination.url);

  return {
    async call(request: NapRequest): Promise<NapCallResult> {
      const message = buildRequest(request, destination.soapVersion);
      const context = `${destination.id} ${request.operation} VIN ${request.vin}`;
      const response = await post(url, agent, message, options.timeoutMs, context);
      if (response.status === 503 || response.status === 502 || response.status === 504 || response.status === 429) {
        throw new TemporarilyUnavailableError(`${context}: NAP answered HTTP ${response.status}`, retryAfterMs(response.retryAfter));
      }
      let parsed: NapResponse;
      try {
        parsed = parseResponse(response.body);
        if (parsed.kind === 'receipt') parsed = { ...parsed, receipt: readReceipt(parsed, request) };
      } catch (error) {
        if (!(error instanceof NapEnvelopeError)) throw error;
        // A proxy's HTML error page or a truncated body: the NAP itself did not decide anything.
        if (response.status >= 500) throw new TemporarilyUnavailableError(`${context}: HTTP ${response.status} without a SOAP answer`);
        throw new PermanentConnectorError(`${context}: unreadable NAP response (HTTP ${response.status}): ${error.message}`, 'NAP_PROTOCOL_ERROR');
      }
      if (parsed.kind === 'receipt') {
        logger.info({ operation: request.operation, vin: request.vin, receiptId: parsed.receipt.receiptId, replayed: parsed.receipt.replayed }, 'NAP receipt');
        return { status: 'accepted', receipt: parsed.receipt };
      }
      if (parsed.fault.party === 'receiver') {
        throw new TemporarilyUnavailableError(`${context}: NAP server fault ${parsed.fault.code}: ${parsed.fault.message}`, retryAfterMs(response.retryAfter));
      }
      logger.warn({ operation: request.operation, vin: request.vin, code: parsed.fault.code }, 'NAP rejected the request');
      return { status: 'rejected', code: parsed.fault.code, message: parsed.fault.message };
    },
    close: () => agent.destroy(),
  };
}

interface RawResponse {
  status: number;
  /** The bytes as received: the envelope reader checks they are UTF-8 (a lenient decode would hide bad bytes as U+FFFD). */
  body: Buffer;
  retryAfter?: string;
}

const MAX_BODY = 1024 * 1024;

function post(url: URL, agent: Agent, message: { body: string; headers: Record<string, string> }, timeoutMs: number, context: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(message.body, 'utf8');
    const req = httpsRequest(url, { method: 'POST', agent, headers: { ...message.headers, 'content-length': String(body.byteLength) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > MAX_BODY) {
          // Settled before the destroy: the aborted response's own error must not turn this into an outage.
          reject(new PermanentConnectorError(`${context}: NAP response larger than ${MAX_BODY} bytes`, 'NAP_PROTOCOL_ERROR'));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ...(retryAfter ? { retryAfter } : {}) });
      });
      res.on('error', (error) => reject(classifyNetworkError(error, context)));
    });
    req.on('timeout', () => req.destroy(new TemporarilyUnavailableError(`${context}: no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(classifyNetworkError(error, context)));
    req.end(body);
  });
}

function classifyNetworkError(error: Error, context: string): Error {
  if (error instanceof PermanentConnectorError || error instanceof TemporarilyUnavailableError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  if (TLS_PERMANENT.test(code) || TLS_PERMANENT.test(error.message)) {
    return new PermanentConnectorError(`${context}: TLS handshake refused (${code || error.message}); check the client certificate and CA configuration`, 'TLS_REFUSED', { cause: error });
  }
  return new TemporarilyUnavailableError(`${context}: NAP unreachable (${code || error.message})`, undefined, { cause: error });
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

async function readSecret(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new PermanentConnectorError(`cannot read the NAP ${what} from ${file}: ${(error as Error).message}`, 'SECRET_UNREADABLE', { cause: error });
  }
}
