import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.ts';
import { stopChild } from './temporal/dev-server.ts';

export interface NapSimulatorProcessOptions {
  /** PEM files: the simulator's server certificate and key, and the CA its clients' certificates must chain to. */
  certFile: string;
  keyFile: string;
  caFile: string;
  stateDir: string;
  /** 0 picks a free port. */
  port: number;
  /** The simulator's own pino level. */
  logLevel: string;
  /** Receives the simulator's log lines; without it they are kept only for a start-up failure. */
  logger?: Logger | undefined;
  readyTimeoutMs?: number | undefined;
}

export interface NapSimulatorProcess {
  url: string;
  port: number;
  pid: number;
  /** Whether the process is still running (it is not restarted: a dead simulator is a readiness failure). */
  running(): boolean;
  stop(): Promise<void>;
}

// Compiled (the production image runs JavaScript next to the sources): the simulator's JavaScript, without tsx.
const COMPILED = import.meta.url.endsWith('.js');
const MAIN = fileURLToPath(new URL(`../connectors/nap/simulator/main.${COMPILED ? 'js' : 'ts'}`, import.meta.url));

/**
 * Starts the NAP simulator (connectors/nap/simulator) as its own process, through tsx as the CLI
 * runs (or compiled); ready when it prints its `listening` line. It dies with this process.
 */
export async function startNapSimulatorProcess(options: NapSimulatorProcessOptions): Promise<NapSimulatorProcess> {
  const args = [...(COMPILED ? [] : ['--import', import.meta.resolve('tsx')]), MAIN, '--port', String(options.port), '--cert', options.certFile, '--key', options.keyFile, '--ca', options.caFile, '--state-dir', options.stateDir, '--log-level', options.logLevel];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => process.off('exit', killOnExit));
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    keep(line);
    options.logger?.warn({ output: line }, 'NAP simulator stderr');
  });
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`NAP simulator not listening after ${timeoutMs} ms:\n${tail.join('\n')}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = parseJson(line);
      if (event?.event === 'listening' && typeof event.url === 'string' && typeof event.port === 'number') {
        clearTimeout(timer);
        resolve({ url: event.url, port: event.port });
        return;
      }
      keep(line);
      // The simulator's own pino lines: passed on as they are, under this stack's logger.
      if (options.logger) options.logger.info({ simulator: event ?? line }, 'NAP simulator');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`NAP simulator exited with ${signal ?? code}:\n${tail.join('\n')}`));
    });
  });
  return {
    ...ready,
    pid: child.pid!,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child),
  };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
