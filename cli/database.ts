import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { loadAuditKeyring, useAuditKeyring } from '../audit/mac.ts';
import { EMBEDDED_APP_ROLE, startEmbeddedPostgres } from '../platform/database/embedded-postgres.ts';
import { prepareDatabase } from '../platform/database/roles.ts';
import { createDatabase, type Database } from '../platform/database/prisma.ts';
import { createLogger } from '../platform/logger.ts';
import { isPortFree } from '../platform/ports.ts';
import type { Config } from '../schemas/config/index.ts';

/**
 * The database for one-shot commands, as the app role: DATABASE_URL, else the embedded PostgreSQL
 * under ECOC_DATA_DIR — reached where `ecoc start` runs it, or started (and migrated as its owner)
 * just for this command on a fresh install, so the first admin key can be made before the first
 * start. Audit records are MACed with the key of this configuration (audit/mac.ts).
 */
export async function withDatabase<T>(config: Config, use: (db: Database) => Promise<T>): Promise<T> {
  const logger = createLogger(config.ECOC_LOG_LEVEL === 'info' ? 'warn' : config.ECOC_LOG_LEVEL, 2);
  useAuditKeyring(loadAuditKeyring(config, logger));
  let url = config.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    const dir = resolve(config.ECOC_DATA_DIR, 'postgres');
    const passwordFile = join(dir, 'app-password');
    if (!(await isPortFree(config.ECOC_POSTGRES_PORT)) && existsSync(passwordFile)) {
      url = `postgresql://${EMBEDDED_APP_ROLE}:${encodeURIComponent(readFileSync(passwordFile, 'utf8').trim())}@127.0.0.1:${config.ECOC_POSTGRES_PORT}/ecoc`;
      await prepareDatabase({ appUrl: url, logger });
    } else {
      const postgres = await startEmbeddedPostgres({ dir, port: config.ECOC_POSTGRES_PORT, database: 'ecoc', logger });
      stop = postgres.stop;
      url = postgres.url;
      await prepareDatabase({ appUrl: url, ownerUrl: postgres.ownerUrl, logger }).catch(async (error: unknown) => {
        await postgres.stop();
        throw error;
      });
    }
  }
  const db = createDatabase(url, 2);
  try {
    return await use(db);
  } finally {
    await db.$disconnect();
    await stop?.();
  }
}

/** Who runs a CLI command, for audit records. */
export function cliActor(): string {
  return `cli:${userInfo().username}`;
}
