import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importVecto } from '../../connectors/vecto/import.ts';
import { VectoFormatError, VectoVersionError } from '../../connectors/vecto/read.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vecto/vehicle_sampleSingleModeDualFuel_2p4.${name}.xml`, import.meta.url), 'utf8');
const CIF = fixture('CUSTOMER');
const MRF = fixture('RSLT_MANUFACTURER');
const MRF_DIGEST = 'MSPa5EN8cQHd+gEHCERlGivFBQtgFnAMzvhQ3F7tHX4=';

describe('VECTO CIF + MRF import', () => {
  it('accepts the matching pair, proposes IVI values, and reports the sample VIN as a finding', () => {
    const result = importVecto({ cif: CIF, mrf: Buffer.from(MRF) });
    expect(result.vin).toBe('VEH-1234567890');
    expect(result.versions).toEqual({ cif: 'urn:tugraz:ivt:VectoAPI:CustomerOutput:v1.0', mrf: 'urn:tugraz:ivt:VectoAPI:DeclarationOutput:v1.0', simulationTool: '5.0.3' });
    expect(result.hashCheck).toEqual({ mrfDigest: MRF_DIGEST, cifCarriesMrfDigest: MRF_DIGEST, cifDigest: '2zE/wi4fMqnWqz6UmnEYVrb4tnHR2Nno+QmxRcare78=', matches: true });
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([
      { severity: 'error', code: 'INVALID_VIN', message: expect.stringContaining('"VEH-1234567890" in the files is not a valid 17-character VIN') },
    ]);
    expect(result.findings.map((f) => f.code)).toEqual(['INVALID_VIN', 'DIGEST_NOT_RECOMPUTED', 'SUMMARY_CHOSEN']);
    expect(Object.fromEntries(result.proposals.map((p) => [p.path, p.value]))).toEqual({
      'VectoGroup.CryptographicHashManufacturerRecord': MRF_DIGEST,
      'VectoGroup.CryptographicHashCustomerInformationFile': '2zE/wi4fMqnWqz6UmnEYVrb4tnHR2Nno+QmxRcare78=',
      'VectoGroup.ZeroEmissionHeavyDutyIndicator': 'N',
      'VectoGroup.VehicleGroup': '5',
      'VectoGroup.VehicleSubgroup': '5-LH',
      'VectoGroup.VocationalVehicleIndicator': 'N',
      'VectoGroup.AveragePayload': 13.842,
      'VectoGroup.SpecificCo2EmissionsMass': 57.11,
      'EnergyConvertorTable.EnergyConvertorGroup[0].EnergySourceTable.EnergySourceGroup[0].EnergySource': '20',
      'EnergyConvertorTable.EnergyConvertorGroup[0].EnergySourceTable.EnergySourceGroup[1].EnergySource': '40',
    });
    expect(result.proposals.every((p) => p.source === 'vecto')).toBe(true);
  });

  it('uses the vocational summary when told the vehicle is vocational', () => {
    const result = importVecto({ cif: CIF, mrf: MRF }, { vocational: true });
    const values = Object.fromEntries(result.proposals.map((p) => [p.path, p.value]));
    expect(values['VectoGroup.VocationalVehicleIndicator']).toBe('Y');
    expect(values['VectoGroup.SpecificCo2EmissionsMass']).toBe(111.89);
    expect(values['VectoGroup.AveragePayload']).toBe(7.75);
    expect(result.findings.map((f) => f.code)).not.toContain('SUMMARY_CHOSEN');
  });

  it('reports a tampered MRF digest in the CIF clearly', () => {
    const tampered = CIF.replace(MRF_DIGEST, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    const result = importVecto({ cif: tampered, mrf: MRF });
    expect(result.hashCheck.matches).toBe(false);
    expect(result.findings).toContainEqual({
      severity: 'error',
      code: 'MRF_DIGEST_MISMATCH',
      message: `the CIF carries MRF digest AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, but the MRF's digest is ${MRF_DIGEST}: one of the files was altered or they are from different runs`,
    });
  });

  it('reports a CIF that refers to another MRF', () => {
    const other = MRF.replaceAll('MRF-4c72042d64e54ba7abff', 'MRF-0000000000aaaaaaaaaa');
    const result = importVecto({ cif: CIF, mrf: other });
    expect(result.hashCheck.matches).toBe(false);
    expect(result.findings.map((f) => f.code)).toContain('MRF_REFERENCE_MISMATCH');
  });

  it('flags differences to the type approval and between the two files', () => {
    const result = importVecto(
      { cif: CIF, mrf: MRF.replace('<VehicleGroup>5</VehicleGroup>', '<VehicleGroup>4</VehicleGroup>') },
      { typeApproval: { vehicleCategory: 'N3', vehicleGroup: '9', technicallyPermissibleMaximumLadenMass: 40000, energySources: ['20'] } },
    );
    expect(result.crossChecks).toEqual([
      { field: 'vehicleCategory', vecto: 'N3', typeApproval: 'N3', matches: true },
      { field: 'vehicleGroup', vecto: '5', typeApproval: '9', matches: false },
      { field: 'technicallyPermissibleMaximumLadenMass', vecto: 40000, typeApproval: 40000, matches: true },
      { field: 'energySources', vecto: ['20', '40'], typeApproval: ['20'], matches: false },
    ]);
    expect(result.findings.filter((f) => f.code === 'TYPE_APPROVAL_DIFFERENCE')).toHaveLength(2);
    expect(result.findings).toContainEqual({ severity: 'error', code: 'CIF_MRF_DIFFERENCE', message: 'VehicleGroup: CIF says 5, MRF says 4' });
  });

  it('refuses unknown VECTO versions naming the namespace', () => {
    const future = CIF.replace('xmlns="urn:tugraz:ivt:VectoAPI:CustomerOutput:v1.0"', 'xmlns="urn:tugraz:ivt:VectoAPI:CustomerOutput:v9.9"');
    let error: unknown;
    try {
      importVecto({ cif: future, mrf: MRF });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VectoVersionError);
    expect((error as VectoVersionError).namespace).toBe('urn:tugraz:ivt:VectoAPI:CustomerOutput:v9.9');
    expect((error as Error).message).toMatch(/unsupported VECTO output version urn:tugraz:ivt:VectoAPI:CustomerOutput:v9\.9; supported: urn:tugraz:ivt:VectoAPI:CustomerOutput:v1\.0/);
    expect(() => importVecto({ cif: MRF, mrf: MRF })).toThrow(/expected root element VectoCustomerInformation, found VectoOutput/);
  });

  it('refuses hostile XML: external entities and entity expansion bombs', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE cif:VectoCustomerInformation [<!ENTITY x SYSTEM "file:///etc/passwd">]>${CIF.slice(CIF.indexOf('<cif:'))}`.replace('<VIN>VEH-1234567890</VIN>', '<VIN>&x;</VIN>');
    expect(() => importVecto({ cif: xxe, mrf: MRF })).toThrow(VectoFormatError);
    expect(() => importVecto({ cif: xxe, mrf: MRF })).toThrow(/DOCTYPE declarations are not allowed/);
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>`;
    expect(() => importVecto({ cif: CIF, mrf: laughs })).toThrow(/Manufacturer Records File: DOCTYPE declarations are not allowed/);
    expect(() => importVecto({ cif: CIF.slice(0, 5000), mrf: MRF })).toThrow(/not well-formed in VECTO Customer Information File \(line \d+\)/);
    expect(() => importVecto({ cif: CIF, mrf: MRF }, { maxBytes: 30_000 })).toThrow(/Manufacturer Records File: 36416 bytes exceeds the limit of 30000 bytes/);
  });
});
