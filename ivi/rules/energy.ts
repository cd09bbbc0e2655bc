import type { ContentRule } from './types.ts';
import { coc, cocPath, rows } from './fields.ts';
import type { Json } from './fields.ts';

const ELECTRICITY = '95';

/** Every energy source of every energy convertor, with its path. */
function energySources(data: Json): { code: unknown; path: string }[] {
  return rows(data.EnergyConvertorTable, 'EnergyConvertorGroup').flatMap((convertor, c) =>
    rows(convertor.EnergySourceTable, 'EnergySourceGroup').map((source, s) => ({
      code: source.EnergySource,
      path: cocPath('EnergyConvertorTable', 'EnergyConvertorGroup', c, 'EnergySourceTable', 'EnergySourceGroup', s, 'EnergySource'),
    })),
  );
}

export const energyRules: ContentRule[] = [
  {
    id: 'IVI-ENERGY-001',
    description: 'PureElectricVehicleIndicator is Y exactly when every energy source is electricity (95)',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const indicator = data.PureElectricVehicleIndicator;
      const sources = energySources(data);
      if (indicator === undefined || sources.length === 0) return [];
      const allElectric = sources.every((source) => source.code === ELECTRICITY);
      if ((indicator === 'Y') === allElectric) return [];
      const codes = [...new Set(sources.map((source) => String(source.code)))].join(', ');
      return [
        {
          path: cocPath('PureElectricVehicleIndicator'),
          message: `PureElectricVehicleIndicator is ${String(indicator)} but the energy sources are ${codes}`,
        },
      ];
    },
  },
  {
    id: 'IVI-ENERGY-002',
    description: 'Hybrid classifications are given only when electricity is combined with another energy source',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const codes = energySources(data).map((source) => source.code);
      const hybrid = codes.includes(ELECTRICITY) && codes.some((code) => code !== ELECTRICITY);
      if (hybrid) return [];
      return ['CategoryHybridElectricVehicle', 'ClassHybridVehicle']
        .filter((field) => data[field] !== undefined)
        .map((field) => ({
          path: cocPath(field),
          message: `${field} is ${String(data[field])} but the energy sources (${codes.join(', ') || 'none'}) are not a hybrid combination`,
        }));
    },
  },
  {
    id: 'IVI-ENERGY-003',
    description: 'Motor vehicles with energy convertors state whether they are pure electric',
    categories: ['M1', 'M2', 'M3', 'N1', 'N2', 'N3'],
    severity: 'warning',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      return data.PureElectricVehicleIndicator === undefined && energySources(data).length > 0
        ? [{ path: cocPath('PureElectricVehicleIndicator'), message: 'PureElectricVehicleIndicator is missing although energy sources are given' }]
        : [];
    },
  },
];
