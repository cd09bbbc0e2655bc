// A signing-pool thread (signing/pool.ts). Plain JavaScript because a thread inherits neither the
// tsx loader cli/ecoc.js registers on the main thread nor vitest's transform: tsImport loads the
// TypeScript tasks (and everything they import) through tsx, scoped to this import. In the
// production image the sources are compiled next to themselves and the JavaScript is loaded as is.
import { existsSync } from 'node:fs';

const compiled = new URL('./work.js', import.meta.url);
const { poolTasks } = existsSync(compiled)
  ? await import(compiled.href)
  : await (await import('tsx/esm/api')).tsImport('./work.ts', import.meta.url);

export const { prepare, check } = poolTasks;
