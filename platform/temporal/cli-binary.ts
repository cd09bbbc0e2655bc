import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Logger } from '../logger.ts';

/** The last Temporal CLI release that `go install` accepts (later ones carry a `replace`). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

export interface TemporalCliOptions {
  /** `TEMPORAL_CLI_PATH`: an explicit binary, tried first. */
  explicitPath?: string | undefined;
  /** The directory binaries are cached in; defaults to `$XDG_CACHE_HOME/ecoc-hub` or `~/.cache/ecoc-hub`. */
  cacheDir?: string;
  logger?: Logger;
  /** Environment used to search PATH (tests pass a reduced one). */
  env?: NodeJS.ProcessEnv;
  /** The Go toolchain; found on PATH or in /usr/local/go by default, `null` for none. */
  goBinary?: string | null;
}

export class TemporalCliNotFoundError extends Error {
  override name = 'TemporalCliNotFoundError';
  constructor(readonly attempts: string[]) {
    super(
      `No Temporal CLI could be found or obtained. Routes tried, in order:\n${attempts
        .map((attempt, index) => `  ${index + 1}. ${attempt}`)
        .join('\n')}\n` +
        'Install the Temporal CLI and set TEMPORAL_CLI_PATH, or install Go so it can be built, ' +
        'or point TEMPORAL_ADDRESS at a running Temporal server.',
    );
  }
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ecoc-hub');
}

/**
 * Finds the `temporal` binary, or obtains it: TEMPORAL_CLI_PATH, PATH, the cache, a `go install`
 * build into the cache, and last the SDK's own download. Every route tried is reported on failure.
 */
export async function resolveTemporalCli(options: TemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const attempts: string[] = [];
  const log = options.logger;

  if (options.explicitPath) {
    if (isExecutable(options.explicitPath)) return options.explicitPath;
    attempts.push(`TEMPORAL_CLI_PATH=${options.explicitPath}: not an executable file`);
  } else {
    attempts.push('TEMPORAL_CLI_PATH: not set');
  }

  const onPath = findOnPath('temporal', env.PATH ?? '');
  if (onPath) return onPath;
  attempts.push(`'temporal' on PATH: not found`);

  const buildDir = join(cacheDir, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const cached = join(buildDir, 'temporal');
  if (isExecutable(cached)) return cached;
  attempts.push(`cache ${cached}: not present`);

  const go = options.goBinary === undefined ? findGo(env) : options.goBinary;
  if (go) {
    log?.info({ module: CLI_MODULE, into: buildDir }, 'building the Temporal CLI with go install (first time only, takes minutes)');
    mkdirSync(buildDir, { recursive: true });
    const result = await run(go, ['install', CLI_MODULE], { ...env, GOBIN: buildDir }, log);
    if (result.code === 0 && isExecutable(cached)) return cached;
    attempts.push(`go install ${CLI_MODULE}: exit ${result.code}: ${lastLines(result.output)}`);
  } else {
    attempts.push(`go install ${CLI_MODULE}: 'go' not found on PATH`);
  }

  try {
    const downloaded = await sdkDownload(join(cacheDir, 'sdk-download'));
    if (downloaded) return downloaded;
    attempts.push('SDK download: finished but left no executable');
  } catch (error) {
    attempts.push(`SDK download: ${(error as Error).message.split('\n')[0]}`);
  }
  throw new TemporalCliNotFoundError(attempts);
}

/** The SDK's test environment downloads a CLI build into a directory; run it once, keep the binary. */
async function sdkDownload(downloadDir: string): Promise<string | undefined> {
  mkdirSync(downloadDir, { recursive: true });
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const environment = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir } },
  });
  await environment.teardown();
  return readdirSync(downloadDir)
    .map((name) => join(downloadDir, name))
    .find((path) => statSync(path).isFile() && isExecutable(path));
}

function findGo(env: NodeJS.ProcessEnv): string | undefined {
  return findOnPath('go', env.PATH ?? '') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, path: string): string | undefined {
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find((candidate) => existsSync(candidate) && isExecutable(candidate));
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, log?: Logger): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
      log?.debug({ line: chunk.toString().trim() }, 'go install');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || 'no output';
}
