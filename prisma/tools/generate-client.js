#!/usr/bin/env node
// Generates the Prisma client into .generated/ at install time, offline: `prisma generate` only
// checks that a schema-engine binary exists, so any existing file satisfies it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let prismaCli;
try {
  prismaCli = require.resolve('prisma/build/index.js');
} catch {
  // Production installs (--omit=dev) have no prisma CLI; the client must then be generated at build.
  if (existsSync(new URL('../../.generated/prisma/client.ts', import.meta.url))) process.exit(0);
  console.error('prisma CLI not installed and no generated client in .generated/prisma');
  process.exit(1);
}
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', 'prisma/schema.prisma'], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
