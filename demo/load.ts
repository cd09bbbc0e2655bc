import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { createApiKey } from '../auth/api-keys.ts';
import { RefusedError } from '../auth/permissions.ts';
import { ingestVehicle } from '../certificates/ingest.ts';
import { readIvi } from '../ivi/reader.ts';
import { createTypeApprovalRepository } from '../ivi/type-approvals/repository.ts';
import { startImpact } from '../ivi/type-approvals/service.ts';
import type { Database } from '../platform/database/prisma.ts';
import { EMBEDDED_NAP_ID } from '../platform/embedded-destinations.ts';
import { waitFor } from '../platform/wait.ts';
import { roles, type Actor, type CertificateState, type CertificateStatus, type ReviewPolicy, type Role } from '../schemas/certificate.ts';
import type { TypeApprovalDraft } from '../schemas/ivi/type-approval.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import { approveUpdate, rejectUpdate, releaseNowUpdate, statusQuery } from '../workflows/certificate/definitions.ts';

export const DEMO_MANUFACTURER = 'demo-motors';
const SPECIMEN = new URL('./specimens/M1-01_electric.xml', import.meta.url);

export interface DemoDependencies {
  db: Database;
  client: Client;
  taskQueue: string;
  review: ReviewPolicy;
  /** Configured destination ids; vehicles go to the NAP simulator when there is one, else the first. */
  destinations: readonly string[];
}

export interface DemoResult {
  manufacturerId: string;
  typeApproval: { id: string; number: string; revisionId: string; versions: { variant: string; version: string }[] };
  /** One key per role, printed once: null when the demo was loaded before (its keys were shown then). */
  keys: Record<Role, string> | null;
  destination: string | null;
  certificates: Partial<Record<CertificateStatus, number>>;
  alreadyLoaded: boolean;
}

/** Who does what in the demo: one person per role, so four-eyes holds as in real use. */
const person = (role: Role): Actor => ({ id: `demo-${role}`, roles: [role] });

/** What each of the 25 demo vehicles goes through (in order of their VINs). */
const PLAN: { count: number; path: 'blocked' | 'in_review' | 'rejected' | 'awaiting_release' | 'delivered' }[] = [
  { count: 5, path: 'blocked' },
  { count: 8, path: 'in_review' },
  { count: 2, path: 'rejected' },
  { count: 4, path: 'awaiting_release' },
  { count: 6, path: 'delivered' },
];

/** The approval built from an official IVI 2.0 specimen: two variants, five versions. */
export function demoApproval(): TypeApprovalDraft {
  const { cocDataGroup } = readIvi(readFileSync(SPECIMEN));
  // What belongs to one vehicle stays out: its VIN and its date of manufacture.
  const { VehicleIdentificationNumber: _vin, DateManufactureVehicle: _date, ...technical } = cocDataGroup;
  const runningOrder = technical.MassGroup?.MassInRunningOrder ?? 0;
  const withMass = (delta: number) => ({ ...technical, MassGroup: { ...technical.MassGroup, MassInRunningOrder: runningOrder - delta } });
  const variant = cocDataGroup.Variant;
  return {
    manufacturerId: DEMO_MANUFACTURER,
    number: cocDataGroup.TypeApprovalNumber,
    baseAct: '(EU) 2018/858',
    issueDate: cocDataGroup.TypeApprovalIssueDate.slice(0, 10),
    typeApprovalType: cocDataGroup.TypeApprovalType,
    vehicleCategory: cocDataGroup.VehicleCategory,
    approvalCountry: 'e6',
    type: cocDataGroup.Type,
    revision: { extensionNumber: '01', effectiveDate: cocDataGroup.TypeApprovalIssueDate.slice(0, 10), reason: 'demo master data from the official M1 specimen' },
    versions: [
      { variant, version: cocDataGroup.Version, values: technical },
      { variant, version: 'XEBM15L-FWD', values: withMass(10) },
      { variant, version: 'XEBM15L-FWD-LR', values: withMass(20) },
      { variant: 'XEBM16(W)', version: 'XEBM16L-AWD', values: withMass(5) },
      { variant: 'XEBM16(W)', version: 'XEBM16L-FWD', values: withMass(15) },
    ] as TypeApprovalDraft['versions'],
  };
}

/** Demo VINs: fixed, so a second run finds the same vehicles. */
const demoVin = (index: number) => `DEMMTRS${String(index + 1).padStart(10, '0')}`;

/**
 * Loads the demo: a manufacturer's type approval (drafted and published by two people), an API
 * key per role, and 25 vehicles taken through the real lifecycle into varied states (blocked,
 * in review, rejected, awaiting release, delivered to the NAP simulator). Idempotent: a second
 * run changes nothing. Refused on a database with anything but demo data.
 */
export async function loadDemo(deps: DemoDependencies): Promise<DemoResult> {
  const { db } = deps;
  const foreign =
    (await db.certificate.count({ where: { manufacturerId: { not: DEMO_MANUFACTURER } } })) + (await db.typeApproval.count({ where: { manufacturerId: { not: DEMO_MANUFACTURER } } }));
  if (foreign > 0) throw new RefusedError('not_allowed_in_state', `this installation holds ${foreign} certificate(s) or type approval(s) of other manufacturers: the demo loads only into an installation without real data`);
  const repository = createTypeApprovalRepository(db);
  const approval = demoApproval();
  const loaded = (await repository.list('all', { manufacturerId: DEMO_MANUFACTURER })).find((item) => item.number === approval.number);
  let keys: DemoResult['keys'] = null;
  let revisionId = loaded?.published?.id;
  if (!revisionId) {
    const draft = await repository.saveDraft(approval, person('homologation').id);
    revisionId = (await repository.publish(draft.revisionId, person('admin').id, 'all')).revision.id;
    await startImpact(deps.client, deps.taskQueue, revisionId, person('admin').id);
    keys = {} as Record<Role, string>;
    for (const role of roles) {
      const { token } = await createApiKey(db, { subject: person(role).id, roles: [role], manufacturers: role === 'admin' ? ['*'] : [DEMO_MANUFACTURER], description: 'ecoc demo', createdBy: 'ecoc demo' });
      keys[role] = token;
    }
  }
  const destination = deps.destinations.includes(EMBEDDED_NAP_ID) ? EMBEDDED_NAP_ID : (deps.destinations[0] ?? null);
  const vehicles = PLAN.flatMap((step) => Array.from({ length: step.count }, () => step.path)).map((path, index) => ({ path, vin: demoVin(index), version: approval.versions[index % approval.versions.length]! }));
  const existing = await db.certificate.count({ where: { manufacturerId: DEMO_MANUFACTURER } });
  if (existing < vehicles.length) {
    await Promise.all(vehicles.map((vehicle) => driveVehicle(deps, vehicle, approval.number, destination)));
  }
  // The certificate rows follow the workflows with their next audit write: wait until none shows a machine step.
  const inMotion = ['received', 'validating', 'generated', 'approved', 'signed', 'delivering'];
  await waitFor(async () => (await db.certificate.count({ where: { manufacturerId: DEMO_MANUFACTURER, status: { in: inMotion } } })) === 0, {
    timeoutMs: 60_000,
    what: 'the demo certificates to settle',
  });
  const counts = await db.certificate.groupBy({ by: ['status'], where: { manufacturerId: DEMO_MANUFACTURER }, _count: true });
  return {
    manufacturerId: DEMO_MANUFACTURER,
    typeApproval: { id: (await repository.list('all', { manufacturerId: DEMO_MANUFACTURER }))[0]!.id, number: approval.number, revisionId, versions: approval.versions.map(({ variant, version }) => ({ variant, version })) },
    keys,
    destination,
    certificates: Object.fromEntries(counts.map((row) => [row.status, row._count])),
    alreadyLoaded: existing >= vehicles.length,
  };
}

/** One vehicle through the real paths: ingest (6 fields; the approval supplies the rest), then review and release as its plan says. */
async function driveVehicle(
  deps: DemoDependencies,
  vehicle: { path: (typeof PLAN)[number]['path']; vin: string; version: { variant: string; version: string } },
  number: string,
  destination: string | null,
): Promise<void> {
  const record = {
    manufacturerId: DEMO_MANUFACTURER,
    vin: vehicle.vin,
    stage: 1,
    typeApprovalNumber: number,
    variant: vehicle.version.variant,
    version: vehicle.version.version,
    ...(destination ? { destination } : {}),
    // A weighing below the approved running-order mass: blocked by the mass rules, as a real mistake would be.
    values: { VehicleIdentificationNumber: vehicle.vin, ...(vehicle.path === 'blocked' ? { MassGroup: { ActualMass: 1500 } } : {}) },
  } as VehicleRecord;
  const { certificateId } = await ingestVehicle(deps, record, person('integrator'), 'api');
  const handle = deps.client.workflow.getHandle(certificateId);
  const reach = async (wanted: CertificateStatus[]): Promise<CertificateState> => {
    let state: CertificateState | undefined;
    await waitFor(async () => wanted.includes((state = await handle.query(statusQuery)).status), { timeoutMs: 120_000, what: `demo vehicle ${vehicle.vin} in ${wanted.join(' or ')}` });
    return state!;
  };
  const settled = await reach(['blocked', 'in_review', 'rejected', 'awaiting_release', 'delivered', 'acknowledged']);
  if (vehicle.path === 'blocked' || vehicle.path === 'in_review' || settled.status !== 'in_review') return;
  if (vehicle.path === 'rejected') {
    await handle.executeUpdate(rejectUpdate, { args: [{ actor: person('reviewer'), reason: 'demo: the tyre sizes do not match the build sheet' }] });
    return;
  }
  await handle.executeUpdate(approveUpdate, { args: [{ actor: person('reviewer'), dataVersion: settled.dataVersion, comment: 'demo: checked against the build sheet' }] });
  if (vehicle.path === 'awaiting_release' || !destination) return;
  await reach(['awaiting_release']);
  await handle.executeUpdate(releaseNowUpdate, { args: [{ actor: person('release-manager') }] });
  // The embedded NAP simulator acknowledges at once; a real destination may take its time.
  await reach(destination === EMBEDDED_NAP_ID ? ['acknowledged'] : ['delivered', 'acknowledged']);
}
