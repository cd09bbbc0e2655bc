import { Worker as Thread } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workflowMemory } from '../../platform/temporal/worker.ts';

/** The V8 heap limit (MiB) a thread started now gets. */
function threadHeapLimitMib(): Promise<number> {
  return new Promise((resolve, reject) => {
    const thread = new Thread("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)", { eval: true });
    thread.once('message', (bytes: number) => resolve(bytes / 1_048_576));
    thread.once('error', reject);
  });
}

describe('worker memory', () => {
  it('sizes the workflow cache and the workflow thread heap from the budget', () => {
    const small = workflowMemory({ ECOC_WORKER_MEMORY_MIB: 1024 });
    const large = workflowMemory({ ECOC_WORKER_MEMORY_MIB: 4096 });
    expect(small.workflowHeapMib).toBeLessThan(1024);
    // Cached workflows take at most 60 % of the heap, so activations' garbage has room.
    expect(small.maxCachedWorkflows * 1.2).toBeLessThanOrEqual(small.workflowHeapMib * 0.6);
    expect(large.maxCachedWorkflows).toBeGreaterThan(small.maxCachedWorkflows * 4);
  });

  it('gives an explicit cache size the heap it needs rather than a heap it would outgrow', () => {
    const memory = workflowMemory({ ECOC_WORKER_MEMORY_MIB: 1024, ECOC_WORKER_MAX_CACHED_WORKFLOWS: 2000 });
    expect(memory.maxCachedWorkflows).toBe(2000);
    expect(memory.workflowHeapMib).toBeGreaterThanOrEqual(Math.ceil((2000 * 1.2) / 0.6));
  });

  it('the heap limit set before a thread starts is the limit that thread gets (how the worker bounds its workflow thread)', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const before = await threadHeapLimitMib();
    setFlagsFromString('--max-old-space-size=300');
    try {
      const after = await threadHeapLimitMib();
      expect(after).toBeLessThan(before);
      expect(after).toBeGreaterThanOrEqual(300);
      expect(after).toBeLessThan(400); // old space plus the young generation
    } finally {
      setFlagsFromString(`--max-old-space-size=${Math.round(before)}`);
    }
  });
});
