import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readIvi } from '../../ivi/reader.ts';
import { checkCertificate, contentRules, readinessSummary, ruleSetVersion } from '../../ivi/rules/index.ts';
import type { CertificateInput, Finding } from '../../ivi/rules/index.ts';
import type { IviMessage } from '../../schemas/ivi/index.ts';

const NOW = new Date('2026-07-10T12:00:00Z');
const specimen = (name: string): IviMessage => readIvi(readFileSync(new URL(`../fixtures/ivi2/${name}.xml`, import.meta.url)));
const SPECIMENS = {
  m1: specimen('M1-01_electric'),
  hybrid: specimen('M1-05_hybrid_petrol'),
  n2: specimen('N2-01_electric'),
  moped: specimen('L1e_moped'),
};

type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test mutations reach any field
interface Case {
  base: keyof typeof SPECIMENS;
  /** Makes the rule fire. */
  fail: (message: Loose) => void;
  /** Fixes the same data so the rule passes (close to the boundary where there is one). */
  pass: (message: Loose) => void;
  path: string;
}

const signer = (m: Loose) => m.cocDataGroup.SigningAuthorityTable.SigningAuthorityGroup[0];
const manufacturers = (m: Loose) => m.cocDataGroup.ManufacturerTable.ManufacturerGroup;
const secondStage = (m: Loose) =>
  manufacturers(m).push({ ...manufacturers(m)[0], ManufacturerStageNumber: 2, ManufacturerName: 'BODY BUILDER' });

const cases: Record<string, Case> = {
  'IVI-MODEL-001': {
    base: 'm1',
    fail: (m) => delete m.cocDataGroup.Version,
    pass: (m) => (m.cocDataGroup.Version = 'XEBM15L'),
    path: 'CocDataGroup/Version',
  },
  'IVI-MAND-001': {
    base: 'm1',
    fail: (m) => (signer(m).SignerPosition = '   '),
    pass: (m) => (signer(m).SignerPosition = 'Head of homologation'),
    path: 'CocDataGroup/SigningAuthorityTable/SigningAuthorityGroup[1]/SignerPosition',
  },
  'IVI-MAND-002': {
    base: 'm1',
    fail: (m) => (manufacturers(m)[0].ManufacturerName = ' '),
    pass: (m) => (manufacturers(m)[0].ManufacturerName = 'TOYOTA'),
    path: 'CocDataGroup/ManufacturerTable/ManufacturerGroup[1]/ManufacturerName',
  },
  'IVI-MAND-003': {
    base: 'n2',
    fail: (m) => delete m.cocDataGroup.DimensionGroup,
    pass: (m) => (m.cocDataGroup.DimensionGroup = { Length: 5998 }),
    path: 'CocDataGroup/DimensionGroup',
  },
  'IVI-VIN-001': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.VehicleIdentificationNumber = 'JTJM1C0MPTESTO001'),
    pass: (m) => (m.cocDataGroup.VehicleIdentificationNumber = 'JTJM1C0MPTEST0001'),
    path: 'CocDataGroup/VehicleIdentificationNumber',
  },
  'IVI-TAN-001': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.TypeApprovalNumber = 'e6*2018/858*264'),
    pass: (m) => (m.cocDataGroup.TypeApprovalNumber = 'e6*2007/46*1797*17'),
    path: 'CocDataGroup/TypeApprovalNumber',
  },
  'IVI-TAN-002': {
    base: 'm1',
    fail: (m) => (m.header.DesignatedTypeApprovalCountry = 'e4'),
    pass: (m) => (m.cocDataGroup.TypeApprovalNumber = 'e4*2018/858*00264*01'),
    path: 'Header/DesignatedTypeApprovalCountry',
  },
  'IVI-CAT-001': {
    base: 'm1',
    // A colour on a bus: the example the receiving side rejects.
    fail: (m) => (m.cocDataGroup.VehicleCategory = 'M2'),
    pass: (m) => {
      delete m.cocDataGroup.ColourTable;
      delete m.cocDataGroup.EcoInnovationsFittedIndicator;
    },
    path: 'CocDataGroup/ColourTable',
  },
  'IVI-CAT-002': {
    base: 'moped',
    fail: (m) => delete m.cocDataGroup.EnergyConvertorTable,
    pass: (m) => (m.cocDataGroup.VehicleCategory = 'O1'),
    path: 'CocDataGroup/EnergyConvertorTable',
  },
  'IVI-MASS-001': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.MassGroup.ActualMass = 2641),
    pass: (m) => (m.cocDataGroup.MassGroup.ActualMass = 2640),
    path: 'CocDataGroup/MassGroup/ActualMass',
  },
  'IVI-MASS-002': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.MassGroup.MassInRunningOrder = 2185),
    pass: (m) => (m.cocDataGroup.MassGroup.MassInRunningOrder = 2184),
    path: 'CocDataGroup/MassGroup/MassInRunningOrder',
  },
  'IVI-MASS-003': {
    base: 'n2',
    fail: (m) => (m.cocDataGroup.AxleTable.AxleGroup[0].DistributionMassRunningOrderAxle = 2101),
    pass: (m) => (m.cocDataGroup.AxleTable.AxleGroup[0].DistributionMassRunningOrderAxle = 2100),
    path: 'CocDataGroup/AxleTable/AxleGroup[1]/DistributionMassRunningOrderAxle',
  },
  'IVI-MASS-004': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.MassGroup.TechnicallyPermissibleMaximumLadenMass = 2851),
    pass: (m) => (m.cocDataGroup.MassGroup.TechnicallyPermissibleMaximumLadenMass = 2850),
    path: 'CocDataGroup/AxleTable',
  },
  'IVI-RANGE-001': {
    base: 'm1',
    fail: (m) => Object.assign(m.cocDataGroup.DimensionGroup, { LengthAdjustableMin: 4900, LengthAdjustableMax: 4800 }),
    pass: (m) => Object.assign(m.cocDataGroup.DimensionGroup, { LengthAdjustableMin: 4800, LengthAdjustableMax: 4910 }),
    path: 'CocDataGroup/DimensionGroup/LengthAdjustableMin',
  },
  'IVI-DIM-001': {
    base: 'n2',
    fail: (m) => (m.cocDataGroup.DimensionGroup.LengthLoadingArea = 5999),
    pass: (m) => (m.cocDataGroup.DimensionGroup.LengthLoadingArea = 5998),
    path: 'CocDataGroup/DimensionGroup/LengthLoadingArea',
  },
  'IVI-GEN-001': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.GeneralConstructionGroup.NumberOfAxles = 3),
    pass: (m) => m.cocDataGroup.AxleTable.AxleGroup.push({ ...m.cocDataGroup.AxleTable.AxleGroup[1], AxleNumber: 3 }),
    path: 'CocDataGroup/AxleTable',
  },
  'IVI-ENERGY-001': {
    base: 'hybrid',
    fail: (m) => (m.cocDataGroup.PureElectricVehicleIndicator = 'Y'),
    pass: (m) => (m.cocDataGroup.PureElectricVehicleIndicator = 'N'),
    path: 'CocDataGroup/PureElectricVehicleIndicator',
  },
  'IVI-ENERGY-002': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.ClassHybridVehicle = 'OVC-HEV'),
    pass: (m) => delete m.cocDataGroup.ClassHybridVehicle,
    path: 'CocDataGroup/ClassHybridVehicle',
  },
  'IVI-ENERGY-003': {
    base: 'n2',
    fail: (m) => delete m.cocDataGroup.PureElectricVehicleIndicator,
    pass: (m) => (m.cocDataGroup.PureElectricVehicleIndicator = 'Y'),
    path: 'CocDataGroup/PureElectricVehicleIndicator',
  },
  'IVI-STAGE-001': {
    base: 'n2',
    fail: (m) => manufacturers(m).push({ ...manufacturers(m)[0], ManufacturerStageNumber: 3, PreviousStageTypeApprovalNumber: 'e3*2018/858*00107*01' }),
    pass: (m) => (manufacturers(m)[1].ManufacturerStageNumber = 2),
    path: 'CocDataGroup/ManufacturerTable',
  },
  'IVI-STAGE-002': {
    base: 'n2',
    fail: (m) => (m.cocDataGroup.StageOfCompletion = 'V'),
    pass: (m) => {
      secondStage(m);
      manufacturers(m)[1].PreviousStageTypeApprovalNumber = 'e3*2018/858*00107*01';
    },
    path: 'CocDataGroup/StageOfCompletion',
  },
  'IVI-STAGE-003': {
    base: 'n2',
    fail: (m) => {
      m.cocDataGroup.StageOfCompletion = 'V';
      secondStage(m);
    },
    pass: (m) => (manufacturers(m)[1].PreviousStageTypeApprovalNumber = 'e3*2018/858*00107*01'),
    path: 'CocDataGroup/ManufacturerTable/ManufacturerGroup[2]/PreviousStageTypeApprovalNumber',
  },
  'IVI-STAGE-004': {
    base: 'n2',
    fail: (m) => (m.cocDataGroup.CompletedAltered = 'A'),
    pass: (m) => {
      m.cocDataGroup.StageOfCompletion = 'V';
      secondStage(m);
      manufacturers(m)[1].PreviousStageTypeApprovalNumber = 'e3*2018/858*00107*01';
    },
    path: 'CocDataGroup/CompletedAltered',
  },
  'IVI-DATE-001': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.DateManufactureVehicle = '2026-07-12'),
    // Still 10 July in UTC, already 11 July in UTC+14: not flagged because of a time zone.
    pass: (m) => (m.cocDataGroup.DateManufactureVehicle = '2026-07-11'),
    path: 'CocDataGroup/DateManufactureVehicle',
  },
  'IVI-DATE-002': {
    base: 'm1',
    fail: (m) => (m.cocDataGroup.TypeApprovalIssueDate = '2024-04-09'),
    pass: (m) => (m.cocDataGroup.TypeApprovalIssueDate = '2024-04-08'),
    path: 'CocDataGroup/TypeApprovalIssueDate',
  },
  'IVI-DATE-003': {
    base: 'moped',
    fail: (m) => (m.cocDataGroup.TypeApprovalIssueDate = '2026-08-01'),
    pass: (m) => (m.cocDataGroup.TypeApprovalIssueDate = '2026-07-10'),
    path: 'CocDataGroup/TypeApprovalIssueDate',
  },
  'IVI-DATE-004': {
    base: 'm1',
    fail: (m) => (signer(m).SignatureDate = '2024-04-07'),
    pass: (m) => (signer(m).SignatureDate = '2024-04-09'),
    path: 'CocDataGroup/SigningAuthorityTable/SigningAuthorityGroup[1]/SignatureDate',
  },
};

const findingsOf = (message: CertificateInput, ruleId: string): Finding[] =>
  checkCertificate(message, { now: NOW }).filter((finding) => finding.ruleId === ruleId);

describe('content rule set', () => {
  it('has unique rule ids, each with a failing and a passing case here', () => {
    const ids = contentRules.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(cases).sort()).toEqual([...ids].sort());
    expect(ruleSetVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('finds nothing in the four official specimens', () => {
    for (const message of Object.values(SPECIMENS)) expect(checkCertificate(message, { now: NOW })).toEqual([]);
  });

  describe.each(Object.entries(cases))('%s', (ruleId, testCase) => {
    const rule = contentRules.find((candidate) => candidate.id === ruleId);

    it('fails on the broken data, naming the field, severity and owner', () => {
      const message = structuredClone(SPECIMENS[testCase.base]) as Loose;
      testCase.fail(message);
      const findings = findingsOf(message as CertificateInput, ruleId);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.map((finding) => finding.path)).toContain(testCase.path);
      for (const finding of findings) {
        expect(finding).toMatchObject({ severity: rule?.severity, owner: rule?.owner });
        expect(finding.message.length).toBeGreaterThan(10);
      }
    });

    it('passes once the data is fixed', () => {
      const message = structuredClone(SPECIMENS[testCase.base]) as Loose;
      testCase.fail(message);
      testCase.pass(message);
      expect(findingsOf(message as CertificateInput, ruleId)).toEqual([]);
    });
  });

  it('checks partial (composed) data without a header, reporting model gaps as findings', () => {
    const { VehicleCategory, VehicleIdentificationNumber } = SPECIMENS.m1.cocDataGroup;
    const findings = checkCertificate({ cocDataGroup: { VehicleCategory, VehicleIdentificationNumber: `${VehicleIdentificationNumber}X` } }, { now: NOW });
    const rules = new Set(findings.map((finding) => finding.ruleId));
    expect(rules).toEqual(new Set(['IVI-MODEL-001', 'IVI-VIN-001', 'IVI-MAND-001', 'IVI-MAND-002', 'IVI-MAND-003', 'IVI-CAT-002']));
    expect(findings).toContainEqual(expect.objectContaining({ ruleId: 'IVI-MODEL-001', path: 'CocDataGroup/TypeApprovalNumber' }));
  });

  it('applies category-scoped rules only to their categories', () => {
    const trailer = structuredClone(SPECIMENS.n2) as Loose;
    trailer.cocDataGroup.VehicleCategory = 'O3';
    delete trailer.cocDataGroup.PureElectricVehicleIndicator;
    const findings = checkCertificate(trailer as CertificateInput, { now: NOW });
    // ENERGY-003 is scoped to motor vehicles; an O3 with an engine is caught by CAT-001 instead.
    expect(findings.map((finding) => finding.ruleId)).not.toContain('IVI-ENERGY-003');
    expect(findings).toContainEqual(expect.objectContaining({ ruleId: 'IVI-CAT-001', path: 'CocDataGroup/EnergyConvertorTable' }));
  });
});

describe('readinessSummary', () => {
  it('says what blocks and who owns the fix', () => {
    const message = structuredClone(SPECIMENS.m1) as Loose;
    message.cocDataGroup.VehicleIdentificationNumber = 'JTJM1C0MPTESTQ001';
    message.cocDataGroup.MassGroup.ActualMass = 2700;
    signer(message).SignatureDate = '2024-04-01';
    const summary = readinessSummary(checkCertificate(message as CertificateInput, { now: NOW }));
    expect(summary.ready).toBe(false);
    expect(summary.ruleSetVersion).toBe(ruleSetVersion);
    expect(summary.blocking.map((finding) => finding.ruleId).sort()).toEqual(['IVI-MASS-001', 'IVI-VIN-001']);
    expect(summary.warnings.map((finding) => finding.ruleId)).toEqual(['IVI-DATE-004']);
    expect(summary.owners).toEqual([
      { owner: 'homologation', blocking: 1, warnings: 0, paths: ['CocDataGroup/MassGroup/ActualMass'] },
      { owner: 'integration', blocking: 1, warnings: 0, paths: ['CocDataGroup/VehicleIdentificationNumber'] },
      { owner: 'reviewer', blocking: 0, warnings: 1, paths: ['CocDataGroup/SigningAuthorityTable/SigningAuthorityGroup[1]/SignatureDate'] },
    ]);
    expect(summary.text).toBe('blocked by 2 errors: homologation 1, integration 1; 1 warning');
  });

  it('is ready when only warnings remain', () => {
    const message = structuredClone(SPECIMENS.m1) as Loose;
    signer(message).SignatureDate = '2024-04-01';
    const summary = readinessSummary(checkCertificate(message as CertificateInput, { now: NOW }));
    expect(summary).toMatchObject({ ready: true, blocking: [], text: 'ready; 1 warning' });
  });
});
