import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Logger } from '../logger.ts';
import { WORKFLOWS_PATH } from './workflows-path.ts';

/** The workflow interceptors bundled with the workflows (OpenTelemetry, switched on per run). */
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL('../../workflows/tracing.ts', import.meta.url));

/** Where `npm run build` writes the workflow bundle; the image points ECOC_WORKFLOW_BUNDLE at it. */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../../dist/workflow-bundle.js', import.meta.url));

/**
 * Bundles the workflows as every worker runs them: `npm run build`, a worker without a pre-built
 * bundle, and the tests all use this, so what is tested and replayed is what runs.
 */
export async function bundleWorkflows(logger?: Logger): Promise<string> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    logger: {
      trace: quiet,
      debug: quiet,
      info: quiet,
      log: quiet,
      warn: (message, meta) => logger?.warn(meta ?? {}, message),
      error: (message, meta) => logger?.error(meta ?? {}, message),
    },
  });
  return code;
}

/** The worker's build id: the bundle's sha256 (hex, first 24), so the same workflow code has the same id everywhere. */
export function workflowBuildId(code: string): string {
  return createHash('sha256').update(code).digest('hex').slice(0, 24);
}

export interface WorkflowCode {
  /** A bundle file (pre-built) or the code bundled in this process. */
  bundle: { codePath: string } | { code: string };
  buildId: string;
  source: 'prebuilt' | 'bundled-at-start';
}

/**
 * The workflow code a worker runs: a pre-built bundle (ECOC_WORKFLOW_BUNDLE; production: `npm run
 * build` made it and the image ships it), else the sources bundled now (development: always the
 * current sources, never a stale dist/).
 */
export async function loadWorkflowCode(options: { bundlePath?: string | undefined; logger?: Logger }): Promise<WorkflowCode> {
  const path = options.bundlePath;
  if (path) {
    let code: string;
    try {
      code = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the workflow bundle ${path}: ${(error as Error).message}`, { cause: error });
    }
    return { bundle: { codePath: path }, buildId: workflowBuildId(code), source: 'prebuilt' };
  }
  const code = await bundleWorkflows(options.logger);
  return { bundle: { code }, buildId: workflowBuildId(code), source: 'bundled-at-start' };
}
