import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConnectionOptions } from './connection-options.ts';

export { temporalConnectionOptions, resolveTemporalProfile, usesOwnTemporal, type TemporalConnectionOptions } from './connection-options.ts';

/** For logs: where and how, never a secret. */
export function describeTemporalConnection(options: TemporalConnectionOptions): string {
  const tls = tlsOf(options);
  const how = !tls ? 'plain' : tls.clientCertPair ? 'mTLS' : 'TLS';
  return `${options.address} (${how}${options.apiKey ? ', API key' : ''})`;
}

/** A Client connection (API, CLI), failing with the reason when TLS or the address is wrong. */
export async function connectTemporalClient(options: TemporalConnectionOptions, connectTimeoutMs = 10_000): Promise<Connection> {
  await checkTemporalTls(options);
  return Connection.connect({ ...options, connectTimeout: connectTimeoutMs }).catch(async (error: unknown) => {
    throw await explainConnectFailure(options, error);
  });
}

/** The worker's NativeConnection, with the same checks and messages. */
export async function connectTemporalNative(options: TemporalConnectionOptions): Promise<NativeConnection> {
  await checkTemporalTls(options);
  return NativeConnection.connect(options).catch(async (error: unknown) => {
    throw await explainConnectFailure(options, error);
  });
}

/**
 * One TLS handshake with the connection's own settings before the SDK connects: the SDK's Client
 * retries a refused handshake until its deadline and then says only "Failed to connect before the
 * deadline"; this names the cause (no client certificate, an untrusted CA, a wrong server name)
 * within a moment.
 */
export async function checkTemporalTls(options: TemporalConnectionOptions, timeoutMs = 5_000): Promise<void> {
  const tls = tlsOf(options);
  if (!tls) return;
  const problem = await tlsHandshakeProblem(options.address, tls, timeoutMs);
  if (problem) throw new Error(`cannot connect to Temporal at ${describeTemporalConnection(options)}: ${problem}`);
}

async function explainConnectFailure(options: TemporalConnectionOptions, error: unknown): Promise<Error> {
  const tls = tlsOf(options);
  const problem = tls ? await tlsHandshakeProblem(options.address, tls, 3_000) : undefined;
  const detail = (error as Error).message;
  const hint = problem ?? (tls ? 'the TLS handshake succeeds, so check TEMPORAL_API_KEY and TEMPORAL_NAMESPACE' : 'is the server running, and does it expect TLS (TEMPORAL_TLS, TEMPORAL_TLS_* variables)?');
  return new Error(`cannot connect to Temporal at ${describeTemporalConnection(options)} (TEMPORAL_ADDRESS): ${hint} (${detail})`, { cause: error });
}

function tlsOf(options: TemporalConnectionOptions): TLSConfig | undefined {
  if (!options.tls) return undefined;
  return options.tls === true ? {} : options.tls;
}

/** Handshakes as the SDK would (CA, client pair, server name, ALPN h2); `undefined` when the server accepts us. */
function tlsHandshakeProblem(address: string, tls: TLSConfig, timeoutMs: number): Promise<string | undefined> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  const serverName = tls.serverNameOverride ?? host;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (problem: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(serverName) ? {} : { servername: serverName }),
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
      ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
      ALPNProtocols: ['h2'],
    });
    const timer = setTimeout(() => finish(`no TLS handshake within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => finish(explainTlsError(error, address, serverName)));
    // With TLS 1.3 the server judges our certificate after our side completed: send the HTTP/2
    // preface and an empty SETTINGS frame; a server that accepted us answers with its SETTINGS,
    // one that did not sends an alert (an 'error' above) or closes.
    socket.once('secureConnect', () => {
      socket.once('data', () => finish(undefined));
      socket.once('end', () => finish('the server closed the connection right after the TLS handshake (did it refuse the client certificate?)'));
      socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
      setTimeout(() => finish(undefined), 2_000);
    });
  });
}

function explainTlsError(error: NodeJS.ErrnoException, address: string, serverName: string): string {
  const code = error.code ?? '';
  const text = `${code} ${error.message}`;
  if (code === 'ECONNREFUSED') return `nothing accepts connections at ${address}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host of ${address} cannot be resolved`;
  if (/CERTIFICATE_REQUIRED|certificate required/i.test(text)) {
    return 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH';
  }
  if (/UNKNOWN_CA|BAD_CERTIFICATE|unknown ca|bad certificate|CERTIFICATE_UNKNOWN|ACCESS_DENIED/i.test(text)) {
    return 'the server refused the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH): it was not issued by a CA the server trusts';
  }
  if (/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT/.test(code)) {
    return `the server's certificate is not issued by the CA in TEMPORAL_TLS_SERVER_CA_CERT_PATH (or, when unset, by a CA this system trusts): ${code}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server's certificate is not valid for "${serverName}": set TEMPORAL_TLS_SERVER_NAME to a name it carries (${error.message})`;
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired";
  if (/WRONG_VERSION_NUMBER|packet length too long|unknown protocol/i.test(text)) {
    return `the server at ${address} does not speak TLS: unset the TEMPORAL_TLS_* variables and TEMPORAL_API_KEY, or set TEMPORAL_TLS=false`;
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the server closed the connection during the TLS handshake (did it refuse the client certificate?)';
  return `TLS handshake failed: ${error.message}`;
}

