// `npm run bench`: every benchmark, one after another, each printing its own numbers.
// Options go through: `npm run bench -- --only lifecycle,signing -- --certificates 200`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** In order from the cheapest; each is also runnable alone with `npx tsx bench/<name>.ts`. */
const BENCHES = ['ivi', 'type-approvals', 'type-approval-impact', 'signing', 'lifecycle', 'api', 'release', 'inbox', 'soak'] as const;

const { values, positionals } = parseArgs({ options: { only: { type: 'string' } }, allowPositionals: true });
const chosen = values.only ? values.only.split(',').map((name) => name.trim()) : [...BENCHES];
const unknown = chosen.filter((name) => !(BENCHES as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);
  process.exit(2);
}

const failed: string[] = [];
for (const name of chosen) {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(script)) continue;
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...positionals], { stdio: 'inherit' });
  console.log(`=== ${name}: ${result.status === 0 ? 'done' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (result.status !== 0) failed.push(name);
}
process.exit(failed.length > 0 ? 1 : 0);
