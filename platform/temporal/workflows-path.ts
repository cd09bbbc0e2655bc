import { fileURLToPath } from 'node:url';

/** Entry of all workflow code, bundled by the Worker into its deterministic sandbox. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
