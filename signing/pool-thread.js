// A signing-pool thread (signing/pool.ts). Plain JavaScript because a thread inherits neither the
// tsx loader cli/ecoc.js registers on the main thread nor vitest's transform: tsImport loads the
// TypeScript tasks (and everything they import) through tsx, scoped to this import.
import { tsImport } from 'tsx/esm/api';

const { poolTasks } = await tsImport('./work.ts', import.meta.url);

export const { prepare, check } = poolTasks;
