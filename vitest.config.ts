import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Worker threads + Temporal's native core have crashed; forks isolate each file in a process.
    pool: 'forks',
    // Two files at a time even on 2 cores (vitest's default there is one): most of a file's time is
    // spent waiting on Temporal, PostgreSQL and child processes, not on the CPU.
    maxWorkers: 2,
    globalSetup: ['./test/setup/global.ts'],
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**', '.generated/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
