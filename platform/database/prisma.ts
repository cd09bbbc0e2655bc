import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../.generated/prisma/client.ts';

export type Database = InstanceType<typeof PrismaClient>;

/** The Prisma 7 runtime client over node-postgres (no native engine needed). */
export function createDatabase(databaseUrl: string): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}
