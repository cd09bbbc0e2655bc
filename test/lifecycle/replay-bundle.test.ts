import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { PREBUILT_WORKFLOW_BUNDLE, workflowBuildId } from '../../platform/temporal/bundle.ts';
import { installTemporalRuntime } from '../../platform/temporal/runtime.ts';
import { telemetry } from '../../platform/telemetry.ts';
import { HISTORIES_DIR } from '../support/histories.ts';

/**
 * The upgrade gate: every committed history (recorded by earlier releases' workflow code, see
 * replay.test.ts for the list) replays against the bundle `npm run build` made — the very file the
 * image ships and the worker runs — so a workflow change that is not behind `patched()` fails CI.
 * `npm test` builds first.
 */
describe('workflow determinism against the built bundle (dist/workflow-bundle.js)', () => {
  installTemporalRuntime(createLogger('warn'));

  it('replays every recorded history with the production bundle', async () => {
    expect(existsSync(PREBUILT_WORKFLOW_BUNDLE), `${PREBUILT_WORKFLOW_BUNDLE} is missing: run \`npm run build\` first (npm test does)`).toBe(true);
    const manifest = JSON.parse(readFileSync(PREBUILT_WORKFLOW_BUNDLE.replace(/\.js$/, '.json'), 'utf8')) as { buildId: string };
    expect(manifest.buildId).toBe(workflowBuildId(readFileSync(PREBUILT_WORKFLOW_BUNDLE, 'utf8')));
    const histories = readdirSync(HISTORIES_DIR)
      .filter((name) => name.endsWith('.json'))
      .map((name) => ({ workflowId: name, history: historyFromJSON(JSON.parse(readFileSync(`${HISTORIES_DIR}${name}`, 'utf8'))) }));
    expect(histories.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const replayed: string[] = [];
    // The sinks a production worker registers (tracing off): the bundle's workflow interceptors call them.
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE }, sinks: telemetry().workflowSinks }, histories)) {
      replayed.push(result.workflowId);
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed.sort()).toEqual(histories.map((h) => h.workflowId).sort());
  }, 300_000);
});
