import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** Migrated once per run by the global setup; each test database is a cheap copy of it. */
export const TEMPLATE_DATABASE = 'ecoc_template';

export interface TestDatabase {
  /** What the stack under test connects with: the app's URL, except for `createEmptyDatabase` (the owner's). */
  url: string;
  /** The app's URL (role `ecoc_app`, which owns nothing). */
  appUrl: string;
  /** The schema owner's URL (role `ecoc_owner`): migrations. */
  ownerUrl: string;
  /** The cluster superuser on this database: what an attacker with full database access can do. */
  adminUrl: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, fully migrated database of the run's real PostgreSQL, owned by the owner role, used as the app role. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ecoc_test_${randomBytes(5).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE} OWNER ${inject('postgresOwnerRole')}`));
  return testDatabase(name);
}

/** A database with nothing in it, owned by the owner role (for migration tests: `url` is then the owner's). */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const name = `ecoc_empty_${randomBytes(5).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name} OWNER ${inject('postgresOwnerRole')}`));
  const database = testDatabase(name);
  return { ...database, url: database.ownerUrl };
}

function testDatabase(name: string): TestDatabase {
  const on = (url: string) => url.replace(/\/[^/]+$/, `/${name}`);
  return {
    name,
    url: on(inject('postgresAppUrl')),
    appUrl: on(inject('postgresAppUrl')),
    ownerUrl: on(inject('postgresOwnerUrl')),
    adminUrl: on(inject('postgresAdminUrl')),
    drop: () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
