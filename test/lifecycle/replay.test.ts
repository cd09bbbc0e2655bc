import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, inject, it } from 'vitest';
import { installTemporalRuntime } from '../../platform/temporal/runtime.ts';
import { createLogger } from '../../platform/logger.ts';
import { HISTORIES_DIR } from '../support/histories.ts';

const histories = readdirSync(HISTORIES_DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, history: historyFromJSON(JSON.parse(readFileSync(`${HISTORIES_DIR}${name}`, 'utf8'))) }));

/**
 * Committed histories of representative runs (recorded by the lifecycle tests with
 * ECOC_RECORD_HISTORIES=1) replayed against today's workflow code: a change that would break
 * running certificates fails here. Re-record only for a deliberate, versioned change.
 */
describe('workflow determinism (replay of recorded histories)', () => {
  installTemporalRuntime(createLogger('warn'));

  it('has the representative histories', () => {
    const v1 = ['correction-after-delivery', 'happy-path', 'reject-correct-approve', 'withdrawal'].map((name) => `v1-${name}.json`);
    const v2 = [...v1.map((name) => name.replace('v1-', 'v2-')), 'v2-release-now-batch.json', 'v2-routing-after-delivery.json', 'v2-audit-witness.json'];
    const v3 = [...v2.filter((name) => name !== 'v2-audit-witness.json').map((name) => name.replace('v2-', 'v3-')), 'v3-type-approval-impact.json', 'v3-type-approval-corrections.json'];
    // v4: the same runs traced by the OpenTelemetry workflow interceptors (patch `opentelemetry-tracing`).
    const v4 = v3.map((name) => name.replace('v3-', 'v4-'));
    expect(histories.map((h) => h.name).sort()).toEqual([...v1, ...v2, ...v3, ...v4].sort());
  });

  it.each(histories)('replays $name with the current workflow code', async ({ history }) => {
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history);
  });

  it('rejects a workflow change that is not replay-compatible', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../fixtures/nondeterministic/workflows.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const happy = histories.find((h) => h.name === 'v1-happy-path.json')!;
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, happy.history)).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
