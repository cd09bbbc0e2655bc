import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Worker threads + Temporal's native core have crashed; forks isolate each file in a process.
    pool: 'forks',
    globalSetup: ['./test/setup/global.ts'],
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**', '.generated/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
