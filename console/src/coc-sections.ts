/**
 * The IVI CocDataGroup laid out like the paper CoC (Regulation (EU) 2020/683, Annex VIII: entries
 * 0.1 Make … 52 Remarks, numbered as in the M1 template of Part I). IVI groups do not map one to
 * one to paper entries; the numbers given are those of the entry a field belongs to, blank where
 * the paper form has no numbered entry (type approval, signature) or the field is category-specific.
 */
export interface CocSection {
  title: string;
  /** Top-level CocDataGroup elements in display order, with their paper entry number. */
  entries: readonly (readonly [element: string, entry: string])[];
}

export const cocSections: readonly CocSection[] = [
  {
    title: 'Vehicle identification and type approval (0.1–0.11)',
    entries: [
      ['MakeTable', '0.1'],
      ['Type', '0.2'],
      ['Variant', '0.2'],
      ['Version', '0.2'],
      ['CommercialNameTable', '0.2.1'],
      ['VehicleCategory', '0.4'],
      ['ManufacturerTable', '0.5'],
      ['MethodAttachmentStatutoryPlate', '0.6'],
      ['LocationStatutoryPlate23Wheel', '0.6'],
      ['LocationVin23Wheel', '0.6'],
      ['LocationMarkingsTable', '0.6'],
      ['EURepresentativeGroup', '0.9'],
      ['VehicleIdentificationNumber', '0.10'],
      ['DateManufactureVehicle', '0.11'],
      ['TypeApprovalNumber', ''],
      ['TypeApprovalIssueDate', ''],
      ['TypeApprovalType', ''],
      ['ProvisionalTypeApprovalIndicator', ''],
      ['ProvisionalApprovalTerritoryTable', ''],
      ['StageOfCompletion', ''],
      ['CompletedAltered', ''],
      ['DescriptionCompletedAltered', ''],
      ['ConvertingPerformanceIndicator', ''],
      ['ProductionYearSmallSeries', ''],
      ['ProductionSequentialNumberSmallSeries', ''],
      ['AllowedParameterValuesMultistageGroup', ''],
      ['SigningAuthorityTable', ''],
    ],
  },
  {
    title: 'General construction characteristics (1–3)',
    entries: [
      ['GeneralConstructionGroup', '1'],
      ['AxleGroupTable', '1.1'],
    ],
  },
  { title: 'Main dimensions (4–12)', entries: [['DimensionGroup', '4–7']] },
  {
    title: 'Masses (13–19)',
    entries: [
      ['MassGroup', '13–16'],
      ['InServiceMaximumMassTable', '17'],
      ['TyreAxleMassCombinationTable', '16'],
      ['TowingBrakedTypeTrailTable', '18'],
      ['MechanicalCouplingTable', '19'],
      ['MechanicalCouplingCanBeFittedTable', '19'],
      ['AdditionalCouplingPoints', '19'],
    ],
  },
  {
    title: 'Power plant (20–28)',
    entries: [
      ['EnergyConvertorTable', '20–27'],
      ['PureElectricVehicleIndicator', '23'],
      ['CategoryHybridElectricVehicle', '23.1'],
      ['ManufacturerHybridApplication', '23.1'],
      ['HybridApplicationCode', '23.1'],
      ['ClassHybridVehicle', '23.1'],
      ['ElectricVehicleConfiguration', '23'],
      ['FuelType', '26'],
      ['SubFuelType', '26'],
      ['FuellingArrangement', '26'],
      ['DualFuelType', '26.1'],
      ['ConsolidatedMaximum30MinutesPower', '27'],
      ['ConsolidatedMaximumNetPowerElectric', '27'],
      ['GearGroup', '28'],
      ['FinalDriveVehicleTable', '28'],
    ],
  },
  {
    title: 'Maximum speed (29)',
    entries: [
      ['MaximumSpeed', '29'],
      ['DeclaredMaximumSpeedForward', '29'],
      ['DeclaredMaximumSpeedRearward', '29'],
      ['MaximumAssistanceFactor', ''],
      ['MaximumAssistanceSpeed', ''],
    ],
  },
  { title: 'Axles and suspension (30–35)', entries: [['AxleTable', '30–35']] },
  {
    title: 'Brakes (36–37)',
    entries: [
      ['TrailerBrakeTable', '36'],
      ['BrakingTransmissionTable', '36'],
      ['ElectronicBrakingSystem', '36'],
      ['ElectricalControlLineIndicator', '36'],
      ['Iso7638ConnectorIndicator', '36'],
    ],
  },
  {
    title: 'Bodywork (38–45)',
    entries: [
      ['BodyworkTable', '38'],
      ['ColourTable', '40'],
      ['ConfigurationDoorsGroup', '41'],
      ['LoadPlatformTable', ''],
      ['DriverSeatTypeCategoryTable', ''],
      ['RollOverProtectiveStructureTable', ''],
    ],
  },
  {
    title: 'Environmental performances (46–49)',
    entries: [
      ['ExhaustEmissionLevel', '47'],
      ['ExhaustEmissionLatestRegulationNumber', '48'],
      ['WltpEmissionTestParametersGroup', '47.1'],
      ['EcoInnovationsFittedIndicator', '49'],
      ['EcoInnovationsTable', '49'],
      ['WltpTotalCo2EmissionSavedDueEcoInnovation', '49'],
      ['VectoGroup', '49'],
    ],
  },
  {
    title: 'Miscellaneous (50–52)',
    entries: [
      ['TypeApprovalTransportDangerousGoodsIndicator', '50'],
      ['TypeApprovalTransportDangerousGoodsTable', '50'],
      ['SpecialPurposesConstructionCharacteristicsGroup', '51'],
      ['RemarkTable', '52'],
      ['AdvancedSafetySystemsTable', ''],
      ['VehicleCertified155Indicator', ''],
      ['VehicleCertified156Indicator', ''],
      ['RightLeftHandTraffic', ''],
      ['MetricImperialSpeedometer', ''],
      ['MetricImperialOdometer', ''],
      ['SubjectApprovalTable', ''],
      ['DescriptionServiceAndMaintenance', ''],
    ],
  },
  {
    title: 'Tractors and special equipment (Regulation (EU) 167/2013 entries)',
    entries: [
      ['ThreePointLiftingMechanism', ''],
      ['PowerTakeOffTable', ''],
      ['BallastSetTable', ''],
      ['TrackTrainGroup', ''],
      ['TrackSetTable', ''],
    ],
  },
];

const ROOT = 'CocDataGroup/';

/** The top-level element of a leaf path: `CocDataGroup/MassGroup/ActualMass` → `MassGroup`. */
export function topElement(path: string): string {
  return path.slice(ROOT.length).split(/[/[]/)[0] ?? path;
}

/**
 * A readable name for a leaf path below its top-level element: table wrappers dropped, rows
 * numbered (`AxleTable/AxleGroup[2]/TyreAxleTable/TyreAxleGroup[1]/TyreSize` → `Axle 2 › Tyre axle 1 › Tyre size`).
 */
export function leafLabel(path: string, humanize: (name: string) => string): string {
  const parts = path.slice(ROOT.length).split('/');
  const shown = parts
    .filter((part, index) => !(index < parts.length - 1 && /Table$/.test(part)))
    .map((part, index, all) => {
      const row = /^(\w+?)(Group)?\[(\d+)\]$/.exec(part);
      if (row) return `${humanize(row[1]!)} ${row[3]}`;
      // A group directly under the top level reads as the top level itself.
      if (index < all.length - 1) return humanize(part.replace(/Group$/, ''));
      return humanize(part);
    });
  return shown.join(' › ');
}
