import { z } from 'zod';
import { optionalUrl } from './types.ts';

/**
 * The web console (served by the API at /console/). Its certificate pages link each workflow to
 * the Temporal Web UI; unset, the link points at the embedded dev server's UI on
 * ECOC_TEMPORAL_UI_PORT of this host.
 */
export const consoleConfigSchema = z.object({
  ECOC_TEMPORAL_UI_URL: optionalUrl(['http:', 'https:']),
});

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;
