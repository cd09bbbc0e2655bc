import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logger.ts';
import { assertPortsFree } from '../ports.ts';
import { waitFor } from '../wait.ts';
import { devServerSearchAttributeFlags } from './search-attributes.ts';

export interface DevServerOptions {
  executable: string;
  port: number;
  /** Web UI port, or `undefined` for a headless server. */
  uiPort?: number | undefined;
  namespace: string;
  /** SQLite file for persistence; in-memory when omitted. */
  dbFilename?: string | undefined;
  logger: Logger;
  readyTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with the project's search attributes and waits until the
 * frontend answers; the SDK's own 5 s readiness window is too short for a cold machine.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { executable, port, uiPort, namespace, dbFilename, logger } = options;
  await assertPortsFree([
    { port, purpose: 'Temporal frontend (ECOC_TEMPORAL_PORT)' },
    ...(uiPort ? [{ port: uiPort, purpose: 'Temporal Web UI (ECOC_TEMPORAL_UI_PORT)' }] : []),
  ]);
  if (dbFilename) mkdirSync(dirname(dbFilename), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--namespace', namespace,
    '--log-format', 'json',
    '--log-level', 'warn',
    ...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']),
    ...(dbFilename ? ['--db-filename', dbFilename] : []),
    ...devServerSearchAttributeFlags(),
  ];
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The next start finds a server a SIGKILLed parent left behind (platform/supervisor.ts).
  if (dbFilename && child.pid) writeFileSync(devServerPidFile(dbFilename), `${child.pid}\n`);
  // Never leave a server behind when this process ends without a clean stop.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const tail: string[] = [];
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      logger.info({ server: parseJson(line) ?? line }, 'temporal');
    }
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exited with ${signal ?? code}`;
  });

  const address = `127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (exit) throw new Error(`Temporal dev server ${exit}:\n${tail.join('\n')}`);
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace });
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: options.readyTimeoutMs ?? 60_000, what: `Temporal dev server on ${address}`, fatal: () => exit !== undefined },
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  logger.info({ address, ui: uiPort ? `http://localhost:${uiPort}` : 'headless', dbFilename }, 'Temporal dev server ready');
  return {
    address,
    uiUrl: uiPort ? `http://localhost:${uiPort}` : undefined,
    stop: () => stopChild(child),
  };
}

/** Where a persistent dev server's pid is kept, next to its database file. */
export function devServerPidFile(dbFilename: string): string {
  return join(dirname(dbFilename), 'server.pid');
}

/** SIGTERM, then SIGKILL if the process ignores it; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
