import { type Command, InvalidArgumentError } from 'commander';
import { recordAudit } from '../audit/chain.ts';
import { countActiveAdminKeys, createApiKey, listApiKeys, revokeApiKey, type ApiKeySpec } from '../auth/api-keys.ts';
import type { Database } from '../platform/database/prisma.ts';
import { loadConfig } from '../platform/config.ts';
import { createKeyBodySchema } from '../schemas/api/keys.ts';
import { cliActor, withDatabase } from './database.ts';

const list = (value: string) => value.split(',').map((item) => item.trim()).filter(Boolean);

/** `ecoc keys create-admin | create | list | revoke`: API keys from a terminal on the server. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys (stored hashed; a token is printed once, on creation)');

  keys
    .command('create-admin')
    .description('Create the first admin key on a fresh install (refused while an active admin key exists)')
    .option('--subject <name>', 'who acts with the key', 'admin')
    .option('--expires <date>', 'ISO 8601 expiry (default: never)')
    .action((options: { subject: string; expires?: string }) =>
      withDatabase(loadConfig(), async (db) => {
        const active = await countActiveAdminKeys(db);
        if (active > 0) throw new Error(`${active} active admin key(s) exist; create further keys with \`ecoc keys create\` or POST /api/v1/keys`);
        await create(db, { subject: options.subject, roles: ['admin'], manufacturers: ['*'], expiresAt: options.expires });
      }),
    );

  keys
    .command('create')
    .description('Create an API key')
    .requiredOption('--subject <name>', "who acts with the key (actor id in decisions and audit records; for a person, their OIDC subject value; stored normalised)")
    .requiredOption('--roles <roles>', 'comma-separated: integrator, homologation, reviewer, release-manager, ops, admin', list)
    .requiredOption('--manufacturers <ids>', 'comma-separated manufacturer ids, or * for all', list)
    .option('--description <text>')
    .option('--expires <date>', 'ISO 8601 expiry (default: never)')
    .action((options: { subject: string; roles: string[]; manufacturers: string[]; description?: string; expires?: string }) =>
      withDatabase(loadConfig(), (db) =>
        create(db, { subject: options.subject, roles: options.roles, manufacturers: options.manufacturers, description: options.description, expiresAt: options.expires }),
      ),
    );

  keys
    .command('list')
    .description('List keys (never their secrets)')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withDatabase(loadConfig(), async (db) => {
        const all = await listApiKeys(db);
        if (options.json) {
          console.log(JSON.stringify(all, null, 2));
          return;
        }
        for (const key of all) {
          const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : key.expiresAt && key.expiresAt <= new Date() ? 'expired' : 'active';
          console.log(`${key.keyId}  ${key.subject}  [${key.roles.join(',')}]  manufacturers ${key.manufacturers.join(',')}  ${state}${key.expiresAt ? `  expires ${key.expiresAt.toISOString()}` : ''}`);
        }
      }),
    );

  keys
    .command('revoke <keyId>')
    .description('Revoke a key (effective for the next request)')
    .action((keyId: string) =>
      withDatabase(loadConfig(), async (db) => {
        const key = await revokeApiKey(db, keyId, cliActor());
        if (!key) throw new Error(`no API key ${keyId}`);
        await recordAudit(db, [{ entryKey: null, occurredAt: new Date(), actor: cliActor(), action: 'cli:key_revoked', certificateId: null, detail: { keyId, subject: key.subject } }]);
        console.log(`revoked ${keyId} (${key.subject})`);
      }),
    );
}

/** Validates with the API's own schema, creates, audits, and prints the token once. */
async function create(db: Database, input: { subject: string; roles: string[]; manufacturers: string[]; description?: string | undefined; expiresAt?: string | undefined }): Promise<void> {
  const parsed = createKeyBodySchema.safeParse({ ...input, ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) });
  if (!parsed.success) {
    throw new InvalidArgumentError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'key'}: ${issue.message}`).join('; '));
  }
  const spec: ApiKeySpec = { ...parsed.data, expiresAt: parsed.data.expiresAt ? new Date(parsed.data.expiresAt) : undefined, createdBy: cliActor() };
  const { token, key } = await createApiKey(db, spec);
  await recordAudit(db, [
    { entryKey: null, occurredAt: new Date(), actor: cliActor(), action: 'cli:key_created', certificateId: null, detail: { keyId: key.keyId, subject: key.subject, roles: key.roles, manufacturers: key.manufacturers } },
  ]);
  console.error(`created key ${key.keyId} for ${key.subject} [${key.roles.join(',')}], manufacturers ${key.manufacturers.join(',')}; the token below is shown only now:`);
  console.log(token);
}
