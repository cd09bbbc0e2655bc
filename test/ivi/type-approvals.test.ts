import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../platform/database/prisma.ts';
import type { Database } from '../../platform/database/prisma.ts';
import { composeCertificateData } from '../../ivi/compose.ts';
import { readIvi } from '../../ivi/reader.ts';
import { createTypeApprovalRepository } from '../../ivi/type-approvals/repository.ts';
import type { TypeApprovalRepository } from '../../ivi/type-approvals/repository.ts';
import type { TypeApprovalInput } from '../../schemas/ivi/type-approval.ts';
import { createTestDatabase } from '../support/database.ts';
import type { TestDatabase } from '../support/database.ts';

const specimen = readIvi(readFileSync(new URL('../fixtures/ivi2/M1-01_electric.xml', import.meta.url)));
const { MassGroup, DimensionGroup, AxleTable, EnergyConvertorTable } = specimen.cocDataGroup;

const approval = (overrides: Partial<TypeApprovalInput> = {}): TypeApprovalInput => ({
  manufacturerId: 'toyota',
  number: 'e6*2018/858*00264*01',
  issueDate: '2023-11-24',
  vehicleCategory: 'M1',
  approvalCountry: 'e6',
  type: 'EBM1(M)',
  versions: [
    { variant: 'XEBM15(W)', version: 'XEBM15L-AWDLSW(1B)', values: { MassGroup, DimensionGroup, AxleTable, EnergyConvertorTable } },
    { variant: 'XEBM15(W)', version: 'XEBM15L-FWD', values: { MassGroup: { MassInRunningOrder: 2050 } } },
  ],
  ...overrides,
});

let database: TestDatabase;
let db: Database;
let repository: TypeApprovalRepository;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase(database.url);
  repository = createTypeApprovalRepository(db);
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

describe('type-approval repository (real PostgreSQL)', () => {
  it('stores an approval with its versions and finds the approved values of one version', async () => {
    await repository.upsert(approval());
    const found = await repository.findVersionValues({ manufacturerId: 'toyota', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-AWDLSW(1B)' });
    expect(found?.approval).toEqual({
      manufacturerId: 'toyota',
      number: 'e6*2018/858*00264*01',
      issueDate: '2023-11-24',
      typeApprovalType: 'EU',
      vehicleCategory: 'M1',
      approvalCountry: 'e6',
      type: 'EBM1(M)',
    });
    expect(found?.values).toEqual({
      MassGroup,
      DimensionGroup,
      AxleTable,
      EnergyConvertorTable,
      TypeApprovalType: 'EU',
      TypeApprovalNumber: 'e6*2018/858*00264*01',
      TypeApprovalIssueDate: '2023-11-24',
      VehicleCategory: 'M1',
      Type: 'EBM1(M)',
      Variant: 'XEBM15(W)',
      Version: 'XEBM15L-AWDLSW(1B)',
    });
  });

  it('returns null for an unknown version, number or manufacturer', async () => {
    await repository.upsert(approval());
    const key = { manufacturerId: 'toyota', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-FWD' };
    expect(await repository.findVersionValues(key)).not.toBeNull();
    expect(await repository.findVersionValues({ ...key, version: 'NOPE' })).toBeNull();
    expect(await repository.findVersionValues({ ...key, number: 'e6*2018/858*00265*00' })).toBeNull();
    expect(await repository.findVersionValues({ ...key, manufacturerId: 'other' })).toBeNull();
  });

  it('updates on upsert: same id, changed columns and values, versions not listed are kept', async () => {
    const first = await repository.upsert(approval());
    const second = await repository.upsert(
      approval({ issueDate: '2023-12-01', versions: [{ variant: 'XEBM15(W)', version: 'XEBM15L-FWD', values: { MassGroup: { MassInRunningOrder: 2060 } } }] }),
    );
    expect(second.id).toBe(first.id);
    const key = { manufacturerId: 'toyota', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)' };
    const fwd = await repository.findVersionValues({ ...key, version: 'XEBM15L-FWD' });
    expect(fwd?.values.MassGroup).toEqual({ MassInRunningOrder: 2060 });
    expect(fwd?.values.TypeApprovalIssueDate).toBe('2023-12-01');
    expect(await repository.findVersionValues({ ...key, version: 'XEBM15L-AWDLSW(1B)' })).not.toBeNull();
    expect(await db.typeApproval.count({ where: { manufacturerId: 'toyota' } })).toBe(1);
  });

  it('keeps the same number apart for different manufacturers', async () => {
    await repository.upsert(approval());
    await repository.upsert(approval({ manufacturerId: 'lexus', type: 'LEXUS1' }));
    const key = { number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-FWD' };
    expect((await repository.findVersionValues({ ...key, manufacturerId: 'lexus' }))?.values.Type).toBe('LEXUS1');
    expect((await repository.findVersionValues({ ...key, manufacturerId: 'toyota' }))?.values.Type).toBe('EBM1(M)');
  });

  it('rejects invalid master data before writing anything', async () => {
    await expect(repository.upsert(approval({ manufacturerId: 'bad', versions: [{ variant: 'V', version: 'X', values: { MassGroup: { ActualMas: 1 } } as never }] }))).rejects.toThrow(/ActualMas/);
    await expect(repository.upsert(approval({ manufacturerId: 'bad', vehicleCategory: 'M9' as never }))).rejects.toThrow();
    expect(await db.typeApproval.count({ where: { manufacturerId: 'bad' } })).toBe(0);
  });

  it('feeds composition: approved values plus the vehicle values give the certificate data', async () => {
    await repository.upsert(approval());
    const found = await repository.findVersionValues({ manufacturerId: 'toyota', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-AWDLSW(1B)' });
    const { values, provenance } = composeCertificateData({
      typeApprovalValues: found?.values ?? {},
      vehicleValues: { source: 'erp', values: { VehicleIdentificationNumber: 'JTJM1C0MPTEST0001', MassGroup: { ActualMass: 2190 } } },
    });
    expect(values.MassGroup).toEqual({ ...MassGroup, ActualMass: 2190 });
    expect(provenance['CocDataGroup/TypeApprovalNumber']).toEqual({ source: 'type_approval' });
    expect(provenance['CocDataGroup/MassGroup/ActualMass']).toEqual({ source: 'erp' });
  });
});
