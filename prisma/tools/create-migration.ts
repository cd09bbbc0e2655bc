// npm run db:migration -- <name>        create a migration if prisma/schema.prisma changed
// npm run db:check                       exit 1 when schema.prisma changed without a migration
// tsx prisma/tools/create-migration.ts --status <database-url>
//                                        what `prisma migrate status` says about a live database
// Options --schema <file> and --migrations <dir> default to prisma/schema.prisma and prisma/migrations.
// Exit codes: 0 ok / in sync, 1 drift or database not up to date, 2 usage or tool error.
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createMigration, DEFAULT_MIGRATIONS_DIR, DEFAULT_SCHEMA_PATH, diffMigrationsToSchema, migrationStatus, type MigrationSource } from './migrations.ts';

const USAGE =
  'Usage: npm run db:migration -- <name> | npm run db:check | tsx prisma/tools/create-migration.ts --status <database-url>\n' +
  '       options: --schema <file> --migrations <dir>';
const shown = (path: string) => relative(process.cwd(), path) || path;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      status: { type: 'string' },
      schema: { type: 'string', default: DEFAULT_SCHEMA_PATH },
      migrations: { type: 'string', default: DEFAULT_MIGRATIONS_DIR },
    },
    allowPositionals: true,
  });
  const source = { schemaPath: resolve(values.schema), migrationsDir: resolve(values.migrations) };
  if (values.check && positionals.length === 0 && values.status === undefined) return check(source);
  if (values.status !== undefined && positionals.length === 0 && !values.check) return status(source, values.status);
  if (!values.check && values.status === undefined && positionals.length === 1 && positionals[0] !== undefined) return create(source, positionals[0]);
  console.error(USAGE);
  return 2;
}

async function check(source: MigrationSource): Promise<number> {
  const drift = await diffMigrationsToSchema(source);
  if (drift.inSync) {
    console.log(`${shown(source.schemaPath)} is in sync with the migrations in ${shown(source.migrationsDir)}.`);
    return 0;
  }
  console.error(
    `${shown(source.schemaPath)} changed without a migration. Compared with what the migrations in ${shown(source.migrationsDir)} build, it has:\n` +
      `${drift.summary}\n\nCreate the migration: npm run db:migration -- <name>`,
  );
  return 1;
}

async function create(source: MigrationSource, name: string): Promise<number> {
  const created = await createMigration({ ...source, name });
  if (created === null) {
    console.log(`No changes: ${shown(source.schemaPath)} matches the migrations; no migration created.`);
    return 0;
  }
  console.log(`Created ${shown(created.sqlPath)}:\n\n${created.sql}`);
  return 0;
}

async function status(source: MigrationSource, databaseUrl: string): Promise<number> {
  const result = await migrationStatus({ ...source, databaseUrl });
  if (result.upToDate) {
    console.log('Database schema is up to date.');
    return 0;
  }
  console.error(`Database is not up to date with ${shown(source.migrationsDir)}:\n${JSON.stringify({ ...result, upToDate: undefined }, null, 2)}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Engine errors carry a Rust span trace after the message; the message is what helps.
    const message = error instanceof Error ? error.message.split(/\n\s+0: schema_engine/)[0] : String(error);
    console.error(message);
    process.exit(2);
  },
);
