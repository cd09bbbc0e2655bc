// `npm run build`: what a production worker and API run instead of building at start.
//   dist/workflow-bundle.js    the workflows and their interceptors, bundled once (ECOC_WORKFLOW_BUNDLE)
//   dist/workflow-bundle.json  its build id (sha256) and when it was built
//   dist/console/              the web console (served as is when NODE_ENV=production)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildConsole, writeConsoleBundle } from '../console/build.ts';
import { PREBUILT_CONSOLE_DIR } from '../console/serve.ts';
import { createLogger } from './logger.ts';
import { bundleWorkflows, PREBUILT_WORKFLOW_BUNDLE, workflowBuildId } from './temporal/bundle.ts';

const logger = createLogger(process.env.ECOC_LOG_LEVEL ?? 'info', 2);
const started = Date.now();
const [code, consoleBundle] = await Promise.all([bundleWorkflows(logger), buildConsole()]);
mkdirSync(dirname(PREBUILT_WORKFLOW_BUNDLE), { recursive: true });
writeFileSync(PREBUILT_WORKFLOW_BUNDLE, code);
const buildId = workflowBuildId(code);
writeFileSync(PREBUILT_WORKFLOW_BUNDLE.replace(/\.js$/, '.json'), `${JSON.stringify({ buildId, builtAt: new Date().toISOString() }, null, 2)}\n`);
await writeConsoleBundle(consoleBundle, PREBUILT_CONSOLE_DIR);
logger.info(
  { workflowBundle: PREBUILT_WORKFLOW_BUNDLE, buildId, bytes: code.length, console: join(PREBUILT_CONSOLE_DIR, 'index.html'), ms: Date.now() - started },
  'build done',
);
