#!/usr/bin/env node
// The `ecoc` command. From a clone it runs the TypeScript CLI through tsx (no build step); the
// production image compiles the sources next to themselves (tsconfig.build.json), and then this
// runs that JavaScript as is, transpiling nothing at start.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./main.js', import.meta.url))) {
  await import('./main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
