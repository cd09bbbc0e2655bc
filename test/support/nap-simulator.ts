import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestPki } from './tls.ts';

export interface NapSimulatorProcess {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../../connectors/nap/simulator/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

/** Starts the NAP simulator as its own process; ready when it prints its listening line. */
export async function startNapSimulatorProcess(pki: TestPki, stateDir: string, port = 0): Promise<NapSimulatorProcess> {
  const child = spawn(TSX, [MAIN, '--port', String(port), '--cert', pki.serverCert, '--key', pki.serverKey, '--ca', pki.caCert, '--state-dir', stateDir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`NAP simulator not ready after 30 s: ${stderr.join('')}`)), 30_000);
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; url?: string; port?: number };
        if (event.event === 'listening' && event.url && event.port) {
          clearTimeout(timer);
          resolve({ url: event.url, port: event.port });
        }
      } catch {
        // pino log lines and anything else: not the readiness line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`NAP simulator exited with ${code}: ${stderr.join('')}`));
    });
  });
  return {
    ...ready,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
