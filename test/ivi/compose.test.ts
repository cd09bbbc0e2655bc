import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeCertificateData, CompositionError } from '../../ivi/compose.ts';
import type { Correction } from '../../ivi/compose.ts';
import { readIvi } from '../../ivi/reader.ts';
import { checkCertificate } from '../../ivi/rules/index.ts';
import { writeIvi } from '../../ivi/writer.ts';
import type { CocDataGroupValues } from '../../schemas/ivi/index.ts';
import { vehicleRecordSchema } from '../../schemas/vehicle-record.ts';

const specimen = readIvi(readFileSync(new URL('../fixtures/ivi2/M1-01_electric.xml', import.meta.url)));
const VEHICLE_FIELDS = ['VehicleIdentificationNumber', 'DateManufactureVehicle', 'ColourTable', 'SigningAuthorityTable'] as const;

/** Splits the specimen into what a type approval provides and what the vehicle adds. */
function split(): { typeApprovalValues: CocDataGroupValues; vehicleValues: CocDataGroupValues } {
  const typeApprovalValues: Record<string, unknown> = structuredClone(specimen.cocDataGroup);
  const vehicleValues: Record<string, unknown> = {};
  for (const field of VEHICLE_FIELDS) {
    vehicleValues[field] = typeApprovalValues[field];
    delete typeApprovalValues[field];
  }
  const mass = typeApprovalValues.MassGroup as Record<string, unknown>;
  vehicleValues.MassGroup = { ActualMass: mass.ActualMass };
  delete mass.ActualMass;
  return { typeApprovalValues, vehicleValues };
}

describe('composeCertificateData', () => {
  it('rebuilds the certificate from type-approval and vehicle values, recording the source of every leaf', () => {
    const { typeApprovalValues, vehicleValues } = split();
    const before = structuredClone({ typeApprovalValues, vehicleValues });
    const { values, provenance } = composeCertificateData({ typeApprovalValues, vehicleValues: { source: 'erp', values: vehicleValues, at: '2026-07-06T10:00:00Z' } });
    expect(values).toEqual(specimen.cocDataGroup);
    expect({ typeApprovalValues, vehicleValues }).toEqual(before);
    expect(provenance['CocDataGroup/MassGroup/ActualMass']).toEqual({ source: 'erp', at: '2026-07-06T10:00:00Z' });
    expect(provenance['CocDataGroup/MassGroup/MassInRunningOrder']).toEqual({ source: 'type_approval' });
    expect(provenance['CocDataGroup/ColourTable/ColourGroup[1]/Colour']).toEqual({ source: 'erp', at: '2026-07-06T10:00:00Z' });
    expect(provenance['CocDataGroup/AxleTable/AxleGroup[2]/AxleNumber']).toEqual({ source: 'type_approval' });
    // The composed data is a complete, valid certificate.
    expect(checkCertificate({ header: specimen.header, cocDataGroup: values }, { now: new Date('2026-07-10') })).toEqual([]);
    expect(writeIvi({ header: specimen.header, cocDataGroup: specimen.cocDataGroup })).toBe(writeIvi({ header: specimen.header, cocDataGroup: values as typeof specimen.cocDataGroup }));
  });

  it('lets later layers win, replacing a table as a whole', () => {
    const { typeApprovalValues } = split();
    const { values, provenance } = composeCertificateData({
      typeApprovalValues,
      vehicleValues: [
        { source: 'erp', values: { MassGroup: { ActualMass: 2200 }, AxleTable: { AxleGroup: [{ AxleNumber: 1 }] } } },
        { source: 'vecto', values: { MassGroup: { ActualMass: 2210 } }, by: 'vecto-import' },
      ],
    });
    expect(values.MassGroup?.ActualMass).toBe(2210);
    expect(values.MassGroup?.MassInRunningOrder).toBe(specimen.cocDataGroup.MassGroup?.MassInRunningOrder);
    expect(values.AxleTable).toEqual({ AxleGroup: [{ AxleNumber: 1 }] });
    expect(provenance['CocDataGroup/MassGroup/ActualMass']).toEqual({ source: 'vecto', by: 'vecto-import' });
    expect(provenance['CocDataGroup/AxleTable/AxleGroup[1]/AxleNumber']).toEqual({ source: 'erp' });
    expect(Object.keys(provenance).filter((path) => path.startsWith('CocDataGroup/AxleTable/AxleGroup[2]'))).toEqual([]);
  });

  it('applies corrections last, with who and when, and removes fields corrected to null', () => {
    const { typeApprovalValues, vehicleValues } = split();
    const corrections: Correction[] = [
      { path: 'MassGroup/ActualMass', value: 2190, by: 'reviewer@example.com', at: '2026-07-07T09:00:00Z', reason: 'weighbridge' },
      { path: 'CocDataGroup/AxleTable/AxleGroup[2]/TechnicallyPermissibleMassAxle', value: 1480, by: 'homologation@example.com', at: '2026-07-07T09:05:00Z' },
      { path: 'ColourTable', value: null, by: 'reviewer@example.com', at: '2026-07-07T09:10:00Z' },
      { path: 'RemarkTable', value: { RemarkGroup: [{ RemarkSubjectDescription: 'RMRKS', RemarkSubjectLanguage: 'en', Remark: 'x' }] }, by: 'r', at: '2026-07-07T09:11:00Z' },
    ];
    const { values, provenance } = composeCertificateData({ typeApprovalValues, vehicleValues: { source: 'api', values: vehicleValues }, corrections });
    expect(values.MassGroup?.ActualMass).toBe(2190);
    expect(values.AxleTable?.AxleGroup?.[1]?.TechnicallyPermissibleMassAxle).toBe(1480);
    expect(values.AxleTable?.AxleGroup?.[1]?.AxleNumber).toBe(2);
    expect(values.ColourTable).toBeUndefined();
    expect(provenance['CocDataGroup/MassGroup/ActualMass']).toEqual({ source: 'correction', by: 'reviewer@example.com', at: '2026-07-07T09:00:00Z' });
    expect(provenance['CocDataGroup/AxleTable/AxleGroup[2]/TechnicallyPermissibleMassAxle']?.source).toBe('correction');
    expect(provenance['CocDataGroup/AxleTable/AxleGroup[2]/AxleNumber']?.source).toBe('type_approval');
    expect(provenance['CocDataGroup/RemarkTable/RemarkGroup[1]/Remark']?.source).toBe('correction');
    expect(Object.keys(provenance).some((path) => path.startsWith('CocDataGroup/ColourTable'))).toBe(false);
  });

  it('refuses corrections to paths the IVI schema does not have', () => {
    const at = '2026-07-07T09:00:00Z';
    const compose = (path: string) => composeCertificateData({ typeApprovalValues: {}, vehicleValues: [], corrections: [{ path, value: 1, by: 'r', at }] });
    expect(() => compose('MassGroup/ActualMas')).toThrow(CompositionError);
    expect(() => compose('MassGroup/ActualMas')).toThrow(/ActualMas is not an element of MassGroup/);
    expect(() => compose('MassGroup[1]/ActualMass')).toThrow(/cannot be indexed/);
    expect(() => compose('AxleTable/AxleGroup[3]/AxleNumber')).toThrow(/no entry 3/);
    expect(compose('MassGroup/ActualMass').values).toEqual({ MassGroup: { ActualMass: 1 } });
  });
});

describe('vehicleRecordSchema', () => {
  const record = { manufacturerId: 'toyota', vin: 'JTJM1C0MPTEST0001', typeApprovalNumber: 'e6*2018/858*00264*01', variant: 'XEBM15(W)', version: 'XEBM15L-AWDLSW(1B)' };

  it('accepts a record with defaults for stage and values', () => {
    expect(vehicleRecordSchema.parse(record)).toEqual({ ...record, stage: 1, values: {} });
    expect(vehicleRecordSchema.parse({ ...record, values: { MassGroup: { ActualMass: 2184 } } }).values).toEqual({ MassGroup: { ActualMass: 2184 } });
  });

  it('rejects bad VINs, unknown IVI fields and values that contradict the record', () => {
    expect(vehicleRecordSchema.safeParse({ ...record, vin: 'JTJM1C0MPTESTO001' }).success).toBe(false);
    const unknown = vehicleRecordSchema.safeParse({ ...record, values: { MassGroup: { ActualMas: 1 } } });
    expect(unknown.error?.issues[0]?.path).toEqual(['values', 'MassGroup']);
    const contradiction = vehicleRecordSchema.safeParse({ ...record, values: { VehicleIdentificationNumber: 'JTJM1C0MPTEST0002' } });
    expect(contradiction.error?.issues).toEqual([expect.objectContaining({ path: ['values', 'VehicleIdentificationNumber'] })]);
  });
});
