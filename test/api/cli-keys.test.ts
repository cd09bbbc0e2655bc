import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { authenticateApiKey } from '../../auth/api-keys.ts';
import { createDatabase, type Database } from '../../platform/database/prisma.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const run = promisify(execFile);

let database: TestDatabase;
let db: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

test('ecoc keys create-admin prints a working admin token once, refuses a second admin, and keys revoke takes effect', async () => {
  const env = { ...process.env, DATABASE_URL: database.url, ECOC_LOG_LEVEL: 'warn' };
  const ecoc = (...args: string[]) => run('npx', ['tsx', 'cli/main.ts', ...args], { env });
  const created = await ecoc('keys', 'create-admin', '--subject', 'root');
  const token = created.stdout.trim();
  expect(token).toMatch(/^ecoc_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  expect(created.stderr).toContain('shown only now');
  const check = await authenticateApiKey(db, token);
  expect(check.ok && check.principal).toMatchObject({ subject: 'root', roles: ['admin'], manufacturers: ['*'] });

  const again = await ecoc('keys', 'create-admin').then(() => undefined, (error: { code: number; stderr: string }) => error);
  expect(again?.code).toBe(1);
  expect(again?.stderr).toContain('1 active admin key(s) exist');

  const keyId = token.split('_')[1]!;
  const listed = await ecoc('keys', 'list');
  expect(listed.stdout).toContain(`${keyId}  root  [admin]  manufacturers *  active`);
  expect(listed.stdout).not.toContain(token.split('_')[2]);
  await ecoc('keys', 'revoke', keyId);
  expect(await authenticateApiKey(db, token)).toEqual({ ok: false, reason: 'revoked' });
  const audit = await db.auditRecord.findMany({ where: { action: { in: ['cli:key_created', 'cli:key_revoked'] } }, orderBy: { id: 'asc' } });
  expect(audit.map((record) => record.action)).toEqual(['cli:key_created', 'cli:key_revoked']);
}, 300_000); // four CLI processes, each starting tsx
