import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from './logger.ts';
import { waitFor } from './wait.ts';

export interface SupervisedServer {
  /** What the logs call it. */
  what: string;
  /** The running server process, if any. */
  child(): ChildProcess | undefined;
  /** Starts it again; resolves once it serves, rejects when it could not start. */
  restart(): Promise<void>;
}

export interface Supervisor {
  /** Stops watching (before a deliberate stop, which must not look like a crash). */
  stop(): void;
  /** Restarts so far. */
  readonly restarts: number;
}

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * Restarts an embedded server that exits without being asked to (crash, OOM kill, an operator's
 * kill): the app's own retries ride out the gap instead of the stack staying half-dead until
 * someone restarts it. A failed restart is tried again with backoff (1 s doubling to 30 s) — a
 * killed PostgreSQL's backends may hold its shared memory for a moment.
 */
export function supervise(server: SupervisedServer, logger: Logger): Supervisor {
  let stopped = false;
  let restarts = 0;
  const watch = () => {
    server.child()?.once('exit', (code, signal) => {
      if (!stopped) void recover(signal ?? code);
    });
  };
  const recover = async (exit: string | number | null) => {
    logger.error({ exit }, `${server.what} exited unexpectedly; restarting it`);
    for (let backoff = FIRST_BACKOFF_MS; !stopped; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      try {
        await server.restart();
        restarts += 1;
        logger.info({ restarts }, `${server.what} restarted`);
        watch();
        return;
      } catch (error) {
        logger.warn({ err: error, retryInMs: backoff }, `${server.what} did not restart; trying again`);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  };
  watch();
  return {
    stop: () => {
      stopped = true;
    },
    get restarts() {
      return restarts;
    },
  };
}

/**
 * Stops a server an earlier run of this data directory left behind (its parent was SIGKILLed, so
 * nothing stopped it) and which still holds its port. Only a live process whose command line
 * names `ownMarker` (the data directory or database file it serves) is touched: a reused pid or
 * someone else's server is left alone, and the port check then reports the port as taken.
 */
export async function stopLeftoverServer(options: { pidFile: string; ownMarker: string; what: string; signal: NodeJS.Signals; logger: Logger }): Promise<boolean> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(options.pidFile, 'utf8').split('\n')[0]!, 10);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !commandLineOf(pid)?.includes(options.ownMarker)) return false;
  options.logger.warn({ pid }, `${options.what} left running by an earlier start of this data directory; stopping it`);
  process.kill(pid, options.signal);
  try {
    await waitFor(async () => !alive(pid), { timeoutMs: 30_000, intervalMs: 100, what: `the leftover ${options.what} (pid ${pid}) to stop` });
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !alive(pid), { timeoutMs: 10_000, intervalMs: 100, what: `the leftover ${options.what} (pid ${pid}) to be killed` });
  }
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process's command line, or undefined when there is no such (live) process. */
function commandLineOf(pid: number): string | undefined {
  try {
    const line = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return line === '' ? undefined : line;
  } catch {
    return undefined;
  }
}
