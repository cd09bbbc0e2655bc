import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../.generated/prisma/client.ts';

export type Database = InstanceType<typeof PrismaClient>;

/**
 * The Prisma 7 runtime client over node-postgres (no native engine needed). Under load many
 * transactions queue for a pooled connection: wait for one rather than fail after Prisma's 2 s.
 */
export function createDatabase(databaseUrl: string, poolSize = 20): Database {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }),
    transactionOptions: { maxWait: 30_000, timeout: 30_000 },
  });
}
