import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { Config } from '../schemas/config/index.ts';

/** What activities are built from; tests pass real components configured for the test. */
export interface ActivityDependencies {
  db: Database;
  logger: Logger;
  config: Config;
}
