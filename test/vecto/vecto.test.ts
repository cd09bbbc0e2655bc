import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCertificateData } from '../../certificates/certificate-data.ts';
import { RefusedError } from '../../auth/permissions.ts';
import { confirmVectoProposals, importVectoForCertificate } from '../../certificates/vecto.ts';
import { storePublishedApproval } from '../support/type-approvals.ts';
import { statusQuery } from '../../workflows/certificate/definitions.ts';
import { actors, nextVin, specimenRecord, startLifecycleHarness, type LifecycleHarness } from '../support/lifecycle.ts';
import { specimenApproval } from '../inbox/support.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vecto/vehicle_sampleSingleModeDualFuel_2p4.${name}.xml`, import.meta.url), 'utf8');
const SAMPLE_VIN = 'VEH-1234567890';
const MRF_DIGEST = 'MSPa5EN8cQHd+gEHCERlGivFBQtgFnAMzvhQ3F7tHX4=';

/** The sample pair, re-labelled for one of our vehicles (VECTO's digest is taken as recorded, so this keeps the pair consistent). */
const filesFor = (vin: string) => ({ cif: fixture('CUSTOMER').replaceAll(SAMPLE_VIN, vin), mrf: fixture('RSLT_MANUFACTURER').replaceAll(SAMPLE_VIN, vin) });

/** The typed refusal a call ends with (VectoRefusedError, or the RefusedError of a role check). */
async function refusal(promise: Promise<unknown>): Promise<RefusedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RefusedError);
  return error as RefusedError;
}

describe('VECTO proposals for a certificate', { timeout: 300_000 }, () => {
  let h: LifecycleHarness;
  beforeAll(async () => {
    h = await startLifecycleHarness();
    await storePublishedApproval(h.db, specimenApproval());
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function certificate() {
    const vin = nextVin();
    const { certificateId } = await h.ingest(specimenRecord(vin));
    await h.waitForStatus(certificateId, 'in_review', 180_000);
    return { vin, certificateId };
  }

  it('stores an import with the hash check, proposals and type-approval cross-checks; the same pair again is the same import', async () => {
    const { vin, certificateId } = await certificate();
    const imported = await importVectoForCertificate(h.db, { vin, stage: 1, ...filesFor(vin), actor: actors.erp });
    expect(imported).toMatchObject({ certificateId, vin, status: 'proposed', importedBy: 'erp-feed', hashCheck: { matches: true, mrfDigest: MRF_DIGEST, cifCarriesMrfDigest: MRF_DIGEST } });
    expect(imported.proposals).toHaveLength(10);
    expect(imported.crossChecks).toEqual(
      expect.arrayContaining([
        { field: 'vehicleCategory', vecto: 'N3', typeApproval: 'M1', matches: false },
        { field: 'technicallyPermissibleMaximumLadenMass', vecto: 40000, typeApproval: 2640, matches: false },
      ]),
    );
    expect(imported.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(imported.findings.map((f) => f.code)).toContain('TYPE_APPROVAL_DIFFERENCE');
    expect(await h.db.certificateDataVersion.count({ where: { certificateId } })).toBe(1);

    const again = await importVectoForCertificate(h.db, { certificateId, ...filesFor(vin), actor: actors.hana });
    expect(again.id).toBe(imported.id);
    expect(await h.db.vectoImport.count({ where: { certificateId } })).toBe(1);
  });

  it('flags a tampered MRF digest and another vehicle’s files, and refuses to confirm them', async () => {
    const { vin, certificateId } = await certificate();
    const files = filesFor(vin);
    const tampered = await importVectoForCertificate(h.db, { certificateId, cif: files.cif.replace(MRF_DIGEST, 'A'.repeat(43) + '='), mrf: files.mrf, actor: actors.hana });
    expect(tampered.hashCheck.matches).toBe(false);
    expect(tampered.findings).toContainEqual(expect.objectContaining({ severity: 'error', code: 'MRF_DIGEST_MISMATCH' }));
    const conflict = await refusal(confirmVectoProposals(h.db, h.client, { importId: tampered.id, actor: actors.hana }));
    expect(conflict.kind).toBe('not_allowed_in_state');
    expect(conflict.message).toMatch(/MRF_DIGEST_MISMATCH/);

    const other = await importVectoForCertificate(h.db, { certificateId, ...filesFor(nextVin()), actor: actors.hana });
    expect(other.findings).toContainEqual(expect.objectContaining({ code: 'CERTIFICATE_VIN_MISMATCH', message: expect.stringContaining(`the certificate for ${vin}`) }));
    expect((await refusal(confirmVectoProposals(h.db, h.client, { importId: other.id, actor: actors.hana }))).kind).toBe('not_allowed_in_state');
    expect(await h.db.certificateDataVersion.count({ where: { certificateId } })).toBe(1);
  });

  it('turns confirmed proposals into a new data version with provenance vecto; only homologation confirms', async () => {
    const { vin, certificateId } = await certificate();
    const imported = await importVectoForCertificate(h.db, { certificateId, ...filesFor(vin), actor: actors.erp });

    expect((await refusal(confirmVectoProposals(h.db, h.client, { importId: imported.id, actor: actors.rita }))).kind).toBe('forbidden');
    expect((await refusal(confirmVectoProposals(h.db, h.client, { importId: imported.id, proposalPaths: ['VectoGroup.Nonsense'], actor: actors.hana }))).kind).toBe('invalid');
    expect((await refusal(confirmVectoProposals(h.db, h.client, { importId: '00000000-0000-4000-8000-000000000000', actor: actors.hana }))).kind).toBe('not_found');

    const paths = [
      'VectoGroup.VehicleGroup',
      'VectoGroup.SpecificCo2EmissionsMass',
      'EnergyConvertorTable.EnergyConvertorGroup[0].EnergySourceTable.EnergySourceGroup[1].EnergySource',
    ];
    const confirmed = await confirmVectoProposals(h.db, h.client, { importId: imported.id, proposalPaths: paths, actor: actors.hana });
    expect(confirmed).toMatchObject({ status: 'confirmed', confirmation: { by: 'hana', paths, dataVersion: 2 } });

    const state = await h.client.workflow.getHandle(certificateId).query(statusQuery);
    expect(state.dataVersion).toBe(2);
    expect(state.lastChangedBy).toBe('hana');
    const data = await loadCertificateData(h.db, certificateId, 2);
    expect(data.dataVersion).toMatchObject({ source: 'correction', submittedBy: 'hana' });
    const values = data.values as Record<string, Record<string, unknown>>;
    expect(values.VectoGroup).toMatchObject({ VehicleGroup: '5', SpecificCo2EmissionsMass: 57.11 });
    expect(values.VectoGroup!.VehicleSubgroup).toBeUndefined();
    expect(data.provenance['CocDataGroup/VectoGroup/VehicleGroup']).toMatchObject({ source: 'vecto', by: 'hana' });
    // The specimen has one energy source; VECTO's second one is added as a new row.
    expect(data.provenance['CocDataGroup/EnergyConvertorTable/EnergyConvertorGroup[1]/EnergySourceTable/EnergySourceGroup[2]/EnergySource']).toMatchObject({ source: 'vecto' });
    expect(data.provenance['CocDataGroup/MassGroup/ActualMass']?.source).not.toBe('vecto');

    const again = await confirmVectoProposals(h.db, h.client, { importId: imported.id, actor: actors.hana });
    expect(again.confirmation?.dataVersion).toBe(2);
    expect(await h.db.certificateDataVersion.count({ where: { certificateId } })).toBe(2);
  });
});
