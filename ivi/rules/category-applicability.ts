import type { CategoryFamily } from './types.ts';

/**
 * Which CocDataGroup fields apply to which vehicle categories. Derived from the CoC templates that
 * IVI 2.0 encodes: (EU) 2020/683 Annex VIII (M, N, O), (EU) 901/2014 Annex VI (L) and
 * (EU) 2015/504 Annex III (T, C, R, S), read together with the regulation behind each field
 * (WLTP 2017/1151, VECTO 2017/2400, ADR UN R105, eco-innovations 2019/631, agricultural
 * 167/2013). Only fields whose scope is clear are listed; every other field is allowed for every
 * category. The official ICM content rules are not public; when they are, this table is what
 * they replace (bump `ruleSetVersion`).
 */
export interface FieldApplicability {
  /** Path below CocDataGroup, `/`-separated through groups (no tables). */
  path: string;
  /** Categories the field may appear for; absent means all. */
  appliesTo?: readonly CategoryFamily[];
  /** Categories for which the field must be present. */
  requiredFor?: readonly CategoryFamily[];
  why: string;
}

const MOTOR_VEHICLES: CategoryFamily[] = ['M1', 'M2', 'M3', 'N1', 'N2', 'N3'];
const AGRICULTURAL_TRACTORS: CategoryFamily[] = ['T', 'C'];

export const categoryApplicability: readonly FieldApplicability[] = [
  { path: 'ColourTable', appliesTo: ['M1', 'N1', 'L'], why: 'colour of the vehicle is an entry of the M1, N1 and L CoCs only' },
  { path: 'LocationStatutoryPlate23Wheel', appliesTo: ['L'], why: 'plate location for two- and three-wheel vehicles (L CoC)' },
  { path: 'LocationVin23Wheel', appliesTo: ['L'], why: 'VIN location for two- and three-wheel vehicles (L CoC)' },
  { path: 'MaximumAssistanceFactor', appliesTo: ['L'], why: 'pedal assistance of L1e-A powered cycles' },
  { path: 'MaximumAssistanceSpeed', appliesTo: ['L'], why: 'pedal assistance of L1e-A powered cycles' },
  { path: 'DimensionGroup/WheelBaseSideCar', appliesTo: ['L'], why: 'side-car combinations are L-category' },
  { path: 'WltpEmissionTestParametersGroup', appliesTo: ['M1', 'M2', 'N1', 'N2'], why: 'WLTP (2017/1151) covers light-duty vehicles and their M2/N2 extension' },
  { path: 'EcoInnovationsTable', appliesTo: ['M1', 'N1'], why: 'eco-innovation credits exist for passenger cars and vans (2019/631)' },
  { path: 'EcoInnovationsFittedIndicator', appliesTo: ['M1', 'N1'], why: 'eco-innovation credits exist for passenger cars and vans (2019/631)' },
  { path: 'WltpTotalCo2EmissionSavedDueEcoInnovation', appliesTo: ['M1', 'N1'], why: 'eco-innovation credits exist for passenger cars and vans (2019/631)' },
  { path: 'VectoGroup', appliesTo: ['M2', 'M3', 'N2', 'N3', 'O'], why: 'VECTO (2017/2400, 2022/1362) covers heavy-duty vehicles and trailers' },
  { path: 'TypeApprovalTransportDangerousGoodsIndicator', appliesTo: ['N1', 'N2', 'N3', 'O'], why: 'ADR approval (UN R105) is for goods vehicles and trailers' },
  { path: 'TypeApprovalTransportDangerousGoodsTable', appliesTo: ['N1', 'N2', 'N3', 'O'], why: 'ADR approval (UN R105) is for goods vehicles and trailers' },
  { path: 'GeneralConstructionGroup/NumberOfStandingPlaces', appliesTo: ['M2', 'M3'], why: 'standing passengers exist in buses and coaches only' },
  { path: 'GeneralConstructionGroup/NumberOfSeatingPositionsLowerDeck', appliesTo: ['M2', 'M3'], why: 'decks exist in buses and coaches only' },
  { path: 'GeneralConstructionGroup/NumberOfSeatingPositionsUpperDeck', appliesTo: ['M2', 'M3'], why: 'decks exist in buses and coaches only' },
  { path: 'DimensionGroup/ElongatedCabIndicator', appliesTo: ['N2', 'N3'], why: 'elongated cabs (2019/1892) are a heavy-goods-vehicle provision' },
  { path: 'ThreePointLiftingMechanism', appliesTo: AGRICULTURAL_TRACTORS, why: 'three-point linkage of agricultural tractors (2015/504)' },
  { path: 'MassGroup/ThreePointLiftingMechanismMaximumTowableMass', appliesTo: AGRICULTURAL_TRACTORS, why: 'three-point linkage of agricultural tractors (2015/504)' },
  { path: 'BallastSetTable', appliesTo: AGRICULTURAL_TRACTORS, why: 'ballast masses of agricultural tractors (2015/504)' },
  { path: 'MassGroup/BallastMassTotal', appliesTo: AGRICULTURAL_TRACTORS, why: 'ballast masses of agricultural tractors (2015/504)' },
  { path: 'GeneralConstructionGroup/NumberOfSetsBallastMasses', appliesTo: AGRICULTURAL_TRACTORS, why: 'ballast masses of agricultural tractors (2015/504)' },
  { path: 'RollOverProtectiveStructureTable', appliesTo: AGRICULTURAL_TRACTORS, why: 'ROPS of agricultural tractors (2015/208)' },
  { path: 'DriverSeatTypeCategoryTable', appliesTo: AGRICULTURAL_TRACTORS, why: 'driver seat categories of agricultural tractors (2015/208)' },
  { path: 'PowerTakeOffTable', appliesTo: AGRICULTURAL_TRACTORS, why: 'power take-offs of agricultural tractors (2015/504)' },
  { path: 'TrackSetTable', appliesTo: ['C'], why: 'tracks exist on track-laying tractors (C) only' },
  { path: 'TrackTrainGroup', appliesTo: ['C'], why: 'tracks exist on track-laying tractors (C) only' },
  { path: 'EnergyConvertorTable', appliesTo: [...MOTOR_VEHICLES, 'L', 'T', 'C'], requiredFor: [...MOTOR_VEHICLES, 'L'], why: 'trailers and towed equipment (O, R, S) have no engine; motor vehicles must describe theirs' },
  { path: 'GeneralConstructionGroup/NumberOfAxles', requiredFor: [...MOTOR_VEHICLES, 'O', 'L'], why: 'entry 1 of every CoC' },
  { path: 'GeneralConstructionGroup/NumberOfWheels', requiredFor: [...MOTOR_VEHICLES, 'O', 'L'], why: 'entry 1 of every CoC' },
  { path: 'MassGroup/TechnicallyPermissibleMaximumLadenMass', requiredFor: [...MOTOR_VEHICLES, 'O', 'L'], why: 'technically permissible maximum laden mass is an entry of every M, N, O and L CoC' },
];
