// Type-approval master data in the database: storing and publishing one approval with 2,000
// versions, and the change impact's analysis over 50,000 certificates (state counts of the
// certificates a new revision reaches). Run: npx tsx bench/type-approval-impact.ts [--versions 2000] [--certificates 50000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { readIvi } from '../ivi/reader.ts';
import { impactStateCounts, revisionChanges } from '../ivi/type-approvals/impact.ts';
import { createTypeApprovalRepository } from '../ivi/type-approvals/repository.ts';
import { startEmbeddedPostgres } from '../platform/database/embedded-postgres.ts';
import { createDatabase } from '../platform/database/prisma.ts';
import { prepareDatabase } from '../platform/database/roles.ts';
import { createLogger } from '../platform/logger.ts';
import { freePort } from '../platform/ports.ts';
import { typeApprovalDraftSchema, type TypeApprovalDraft } from '../schemas/ivi/type-approval.ts';

const { values } = parseArgs({ options: { versions: { type: 'string', default: '2000' }, certificates: { type: 'string', default: '50000' } } });
const versions = Number(values.versions);
const certificates = Number(values.certificates);
const logger = createLogger(process.env.ECOC_BENCH_LOG_LEVEL ?? 'warn');
const dir = mkdtempSync(join(tmpdir(), 'ecoc-bench-ta-'));
const postgres = await startEmbeddedPostgres({ dir: join(dir, 'postgres'), port: await freePort(), database: 'ecoc', logger });
const seconds = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;
try {
  await prepareDatabase({ appUrl: postgres.url, ownerUrl: postgres.ownerUrl, logger });
  const db = createDatabase(postgres.url);
  const repository = createTypeApprovalRepository(db);
  const { cocDataGroup } = readIvi(readFileSync(new URL('../test/fixtures/ivi2/M1-01_electric.xml', import.meta.url)));
  const { VehicleIdentificationNumber: _vin, DateManufactureVehicle: _date, SigningAuthorityTable: _signer, ...technical } = cocDataGroup;
  const draft = (mass: (index: number) => number, extension: string): TypeApprovalDraft => ({
    manufacturerId: 'acme',
    number: 'e6*2018/858*00264*01',
    issueDate: '2023-11-24',
    typeApprovalType: 'EU',
    vehicleCategory: 'M1',
    approvalCountry: 'e6',
    type: 'EBM1(M)',
    revision: { extensionNumber: extension, effectiveDate: '2024-01-01', reason: 'benchmark' },
    versions: Array.from({ length: versions }, (_, index) => ({
      variant: `V${Math.floor(index / 100)}`,
      version: `VER-${index}`,
      values: { ...technical, MassGroup: { ...technical.MassGroup, MassInRunningOrder: mass(index) } },
    })),
  });

  const firstDraft = draft((index) => 2000 + (index % 500), '01');
  let started = process.hrtime.bigint();
  typeApprovalDraftSchema.parse(firstDraft);
  console.log(`checking ${versions} versions against the IVI schema (part of storing): ${seconds(started).toFixed(2)} s`);
  started = process.hrtime.bigint();
  const first = await repository.saveDraft(firstDraft, 'anna');
  await repository.publish(first.revisionId, 'bernd', 'all');
  console.log(`store + publish one approval with ${versions} versions: ${seconds(started).toFixed(2)} s`);

  // Certificates spread over the versions, in every state (the projection the impact reads).
  const statuses = ['in_review', 'blocked', 'awaiting_release', 'delivered', 'acknowledged'];
  started = process.hrtime.bigint();
  await db.$executeRawUnsafe(
    `INSERT INTO certificate (id, manufacturer_id, vin, stage, type_approval_number, variant, version, status, updated_at)
     SELECT 'ecoc-BENCH' || lpad(i::text, 12, '0') || '-s1', 'acme', 'BENCH' || lpad(i::text, 12, '0'), 1, 'e6*2018/858*00264*01',
            'V' || ((i % ${versions}) / 100), 'VER-' || (i % ${versions}), (ARRAY['${statuses.join("','")}'])[1 + i % ${statuses.length}], now()
     FROM generate_series(1, ${certificates}) AS i`,
  );
  await db.$executeRawUnsafe('ANALYZE certificate');
  console.log(`${certificates} certificates loaded in ${seconds(started).toFixed(1)} s`);

  // The next revision changes one mass value in every other version.
  const second = await repository.saveDraft(draft((index) => 2000 + (index % 500) - (index % 2), '02'), 'anna');
  await repository.publish(second.revisionId, 'bernd', 'all');
  started = process.hrtime.bigint();
  const changes = await revisionChanges(db, second.revisionId);
  const diffSeconds = seconds(started);
  started = process.hrtime.bigint();
  const counts = await impactStateCounts(db, second.revisionId);
  const countSeconds = seconds(started);
  const reached = Object.values(counts.byStatus).reduce((sum, count) => sum + count, 0);
  console.log(`impact analysis: diff of two revisions (${changes.changed.size} of ${versions} versions changed) ${diffSeconds.toFixed(2)} s`);
  console.log(`impact analysis: state counts over ${certificates} certificates (${reached} reached) ${countSeconds.toFixed(2)} s, ${JSON.stringify(counts.byStatus)}`);
  console.log(`impact analysis in total (diff + state counts): ${(diffSeconds + countSeconds).toFixed(2)} s`);
  await db.$disconnect();
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
