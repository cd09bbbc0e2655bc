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
import { storePublishedApproval } from '../support/type-approvals.ts';
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

describe('type-approval master data with revisions (real PostgreSQL)', () => {
  it('stores a published approval with its versions and finds the approved values of one version', async () => {
    await storePublishedApproval(db, approval());
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
    await storePublishedApproval(db, approval());
    const key = { manufacturerId: 'toyota', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-FWD' };
    expect(await repository.findVersionValues(key)).not.toBeNull();
    expect(await repository.findVersionValues({ ...key, version: 'NOPE' })).toBeNull();
    expect(await repository.findVersionValues({ ...key, number: 'e6*2018/858*00265*00' })).toBeNull();
    expect(await repository.findVersionValues({ ...key, manufacturerId: 'other' })).toBeNull();
  });

  it('a later revision replaces what is in effect from its effective date; the earlier revision stays as it was', async () => {
    const first = await storePublishedApproval(db, approval({ manufacturerId: 'revised' }));
    const second = await storePublishedApproval(
      db,
      approval({ manufacturerId: 'revised', issueDate: '2023-12-01', versions: [{ variant: 'XEBM15(W)', version: 'XEBM15L-FWD', values: { MassGroup: { MassInRunningOrder: 2060 } } }] }),
      { extensionNumber: '02', effectiveDate: '2024-01-01', reason: 'mass in running order corrected' },
    );
    expect(second.typeApprovalId).toBe(first.typeApprovalId);
    const key = { manufacturerId: 'revised', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)' };
    const fwd = await repository.findVersionValues({ ...key, version: 'XEBM15L-FWD' });
    expect(fwd?.revision.id).toBe(second.revisionId);
    expect(fwd?.values.MassGroup).toEqual({ MassInRunningOrder: 2060 });
    expect(fwd?.values.TypeApprovalIssueDate).toBe('2023-12-01');
    // Before the extension's effective date the original revision applies.
    const before = await repository.findVersionValues({ ...key, version: 'XEBM15L-FWD' }, new Date('2023-12-15T00:00:00Z'));
    expect(before?.revision.id).toBe(first.revisionId);
    expect(before?.values.MassGroup).toEqual({ MassInRunningOrder: 2050 });
    // A revision is the whole approval: a version it does not list is not approved from then on.
    expect(await repository.findVersionValues({ ...key, version: 'XEBM15L-AWDLSW(1B)' })).toBeNull();
    expect((await repository.revisionVersionValues(first.revisionId, 'XEBM15(W)', 'XEBM15L-AWDLSW(1B)'))?.values.MassGroup).toEqual(MassGroup);
    expect(await db.typeApproval.count({ where: { manufacturerId: 'revised' } })).toBe(1);
    const diff = await repository.diff(first.revisionId, second.revisionId, ['revised']);
    expect(diff.approval).toEqual([{ path: 'issueDate', from: '2023-11-24', to: '2023-12-01' }]);
    expect(diff.versions).toEqual([
      { variant: 'XEBM15(W)', version: 'XEBM15L-FWD', change: 'changed', fields: [{ path: 'CocDataGroup/MassGroup/MassInRunningOrder', from: 2050, to: 2060 }] },
      expect.objectContaining({ variant: 'XEBM15(W)', version: 'XEBM15L-AWDLSW(1B)', change: 'removed' }),
    ]);
  });

  it('drafts are edited value by value under the IVI types; the drafter cannot publish; a published revision never changes', async () => {
    const draft = await repository.saveDraft({ ...approval({ manufacturerId: 'drafts' }), revision: { extensionNumber: '00', effectiveDate: '2023-11-24', reason: 'first' } }, 'anna');
    expect(await repository.findVersionValues({ manufacturerId: 'drafts', number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-FWD' })).toBeNull();
    const cell = { variant: 'XEBM15(W)', version: 'XEBM15L-FWD' };
    await expect(repository.setDraftValue(draft.revisionId, { ...cell, path: 'MassGroup/MassInRunningOrder', value: 'heavy' }, 'bernd', ['drafts'])).rejects.toMatchObject({ kind: 'invalid' });
    await expect(repository.setDraftValue(draft.revisionId, { ...cell, path: 'MassGroup/MassInRunnigOrder', value: 1 }, 'bernd', ['drafts'])).rejects.toThrow(/MassInRunnigOrder is not an element of MassGroup/);
    await expect(repository.setDraftValue(draft.revisionId, { ...cell, path: 'MassGroup/MassInRunningOrder', value: 2070 }, 'bernd', ['other'])).rejects.toMatchObject({ kind: 'not_found' });
    await repository.setDraftValue(draft.revisionId, { ...cell, path: 'MassGroup/MassInRunningOrder', value: 2070 }, 'bernd', ['drafts']);
    await expect(repository.publish(draft.revisionId, 'anna', ['drafts'])).rejects.toMatchObject({ kind: 'four_eyes', message: expect.stringMatching(/anna drafted revision 1 .* cannot also publish it/) });
    await expect(repository.publish(draft.revisionId, 'bernd', ['drafts'])).rejects.toMatchObject({ kind: 'four_eyes' });
    const published = await repository.publish(draft.revisionId, 'clara', ['drafts']);
    expect(published.revision).toMatchObject({ status: 'published', publishedBy: 'clara', draftedBy: ['anna', 'bernd'] });
    await expect(repository.setDraftValue(draft.revisionId, { ...cell, path: 'MassGroup/MassInRunningOrder', value: 1 }, 'bernd', ['drafts'])).rejects.toMatchObject({ kind: 'not_allowed_in_state' });
    await expect(repository.publish(draft.revisionId, 'dora', ['drafts'])).rejects.toMatchObject({ kind: 'not_allowed_in_state' });
    const found = await repository.findVersionValues({ manufacturerId: 'drafts', number: 'e6*2018/858*00264*01', ...cell });
    expect(found?.values.MassGroup).toEqual({ MassInRunningOrder: 2070 });
    // The next change starts from the published content as a new draft.
    const next = await repository.openDraft(draft.typeApprovalId, 'bernd', ['drafts'], { extensionNumber: '01', effectiveDate: '2024-02-01', reason: 'extension' });
    expect(next.sequence).toBe(2);
    expect((await repository.revision(next.revisionId, ['drafts'])).approval.versions).toHaveLength(2);
  });

  it('keeps the same number apart for different manufacturers', async () => {
    await storePublishedApproval(db, approval());
    await storePublishedApproval(db, approval({ manufacturerId: 'lexus', type: 'LEXUS1' }));
    const key = { number: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-FWD' };
    expect((await repository.findVersionValues({ ...key, manufacturerId: 'lexus' }))?.values.Type).toBe('LEXUS1');
    expect((await repository.findVersionValues({ ...key, manufacturerId: 'toyota' }))?.values.Type).toBe('EBM1(M)');
  });

  it('rejects invalid master data before writing anything', async () => {
    await expect(storePublishedApproval(db, approval({ manufacturerId: 'bad', versions: [{ variant: 'V', version: 'X', values: { MassGroup: { ActualMas: 1 } } as never }] }))).rejects.toThrow(/ActualMas/);
    await expect(storePublishedApproval(db, approval({ manufacturerId: 'bad', vehicleCategory: 'M9' as never }))).rejects.toThrow();
    expect(await db.typeApproval.count({ where: { manufacturerId: 'bad' } })).toBe(0);
  });

  it('feeds composition: approved values plus the vehicle values give the certificate data', async () => {
    await storePublishedApproval(db, approval());
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
