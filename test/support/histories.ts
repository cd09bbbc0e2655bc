import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export const HISTORIES_DIR = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

/**
 * Histories are kept per generation of workflow code (`v1-…` before "release now" became a batch
 * of one, `v2-…` before validation and generation became one step and a batch of one carried its
 * audit, `v3-…` before runs were traced by the OpenTelemetry workflow interceptors, `v4-…` since):
 * running workflows of every generation must keep replaying, so a new generation adds files and
 * never overwrites an older one's.
 */
export const HISTORY_GENERATION = 'v4';

/**
 * With ECOC_RECORD_HISTORIES=1 the lifecycle tests save the histories of representative runs;
 * committed, they are what the replay test holds every workflow change against.
 */
export async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.ECOC_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  writeFileSync(`${HISTORIES_DIR}${HISTORY_GENERATION}-${name}.json`, `${historyToJSON(history)}\n`);
}
