import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../platform/ports.ts';
import { stopChild } from '../../platform/temporal/dev-server.ts';
import { waitFor } from '../../platform/wait.ts';
import { exitOf } from './processes.ts';
import type { TestPki } from './tls.ts';

export interface TlsTerminator {
  /** `127.0.0.1:port`: TLS with the PKI's server certificate; a client certificate of its CA is required. */
  address: string;
  stop(): Promise<void>;
}

/**
 * A real TLS terminator in front of a plain gRPC server: HAProxy (Debian `haproxy`) in TCP mode,
 * `verify required` against the PKI's CA, advertising ALPN `h2` — the Temporal worker's Rust core
 * (tonic) insists on a negotiated h2, which stunnel cannot offer. Bytes pass through unchanged.
 */
export async function startTlsTerminator(pki: TestPki, target: string): Promise<TlsTerminator> {
  const port = await freePort();
  const bundle = join(pki.dir, 'terminator.pem');
  writeFileSync(bundle, readFileSync(pki.serverCert, 'utf8') + readFileSync(pki.serverKey, 'utf8'));
  const config = join(pki.dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  log stderr format raw local0 warning',
      'defaults',
      '  mode tcp',
      '  log global',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend temporal_tls',
      `  bind 127.0.0.1:${port} ssl crt ${bundle} ca-file ${pki.caCert} verify required alpn h2`,
      '  default_backend temporal',
      'backend temporal',
      `  server dev ${target}`,
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = exitOf(child);
  let exit: number | string | undefined;
  void exited.then((code) => (exit = code));
  await waitFor(
    async () => {
      if (exit !== undefined) throw new Error(`haproxy exited with ${exit}: ${output}`);
      return new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    },
    { timeoutMs: 15_000, what: `haproxy on 127.0.0.1:${port}`, fatal: () => exit !== undefined },
  );
  return { address: `127.0.0.1:${port}`, stop: () => stopChild(child, 5_000) };
}
