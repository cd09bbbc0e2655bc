import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { freePort } from '../../platform/ports.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningCli {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/** Runs the real `ecoc` entry point as a separate process, as a user would. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, ['cli/ecoc.js', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: exitOf(child) };
}

/**
 * Resolves with the child's exit code (or signal name); until then, the child is killed if this
 * process ends, so a test or bench that dies leaves nothing running on its own.
 */
export function exitOf(child: ChildProcess): Promise<number | string> {
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      resolve(code ?? signal ?? -1);
    }),
  );
}

export interface EmbeddedStackPorts {
  temporal: number;
  ui: number;
  postgres: number;
  api: number;
  workerOps: number;
  nap: number;
}

/**
 * The environment of an `ecoc start` on embedded defaults under `dataDir/data`, on free ports:
 * no TEMPORAL_ADDRESS, DATABASE_URL or destinations file (the NAP simulator and archive come up),
 * and the audit MAC key generated under the data directory.
 */
export async function embeddedStackEnv(dataDir: string, temporalCliPath: string): Promise<{ env: Record<string, string>; ports: EmbeddedStackPorts }> {
  const ports = { temporal: await freePort(), ui: await freePort(), postgres: await freePort(), api: await freePort(), workerOps: await freePort(), nap: await freePort() };
  const env = {
    ECOC_DATA_DIR: join(dataDir, 'data'),
    ECOC_TEMPORAL_PORT: String(ports.temporal),
    ECOC_TEMPORAL_UI_PORT: String(ports.ui),
    ECOC_POSTGRES_PORT: String(ports.postgres),
    ECOC_API_PORT: String(ports.api),
    ECOC_WORKER_OPS_PORT: String(ports.workerOps),
    ECOC_NAP_SIMULATOR_PORT: String(ports.nap),
    TEMPORAL_CLI_PATH: temporalCliPath,
    ECOC_LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: '',
    DATABASE_URL: '',
    ECOC_AUDIT_MAC_KEY: '',
  };
  return { env, ports };
}
