import type { ContentRule, Violation } from './types.ts';
import { coc, cocPath, numberAt, rows } from './fields.ts';
import type { Json } from './fields.ts';
import { fieldPath } from '../paths.ts';

function notAbove(data: Json, lowerPath: string, upperPath: string, what: string): Violation[] {
  const lower = numberAt(data, lowerPath);
  const upper = numberAt(data, upperPath);
  if (lower === undefined || upper === undefined || lower <= upper) return [];
  return [{ path: cocPath(...lowerPath.split('/')), message: `${what}: ${lowerPath} ${lower} exceeds ${upperPath} ${upper}` }];
}

/** Every `…Min`/`…Max` sibling pair anywhere in the data, with the plain value between them if given. */
function rangeViolations(node: unknown, segments: (string | number)[]): Violation[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => rangeViolations(item, [...segments, index]));
  if (node === null || typeof node !== 'object') return [];
  const group = node as Json;
  const found: Violation[] = [];
  for (const [key, min] of Object.entries(group)) {
    if (!key.endsWith('Min') || typeof min !== 'number') continue;
    const stem = key.slice(0, -3);
    const max = group[`${stem}Max`];
    const base = group[stem.replace(/(Adjustable|Variable)$/, '')];
    const path = (name: string) => fieldPath([...segments, name], 'CocDataGroup');
    if (typeof max === 'number' && min > max) found.push({ path: path(key), message: `${key} ${min} exceeds ${stem}Max ${max}` });
    else if (typeof base === 'number' && (base < min || (typeof max === 'number' && base > max))) {
      const baseName = stem.replace(/(Adjustable|Variable)$/, '');
      found.push({ path: path(baseName), message: `${baseName} ${base} lies outside its range ${min}–${typeof max === 'number' ? max : '…'}` });
    }
  }
  for (const [key, value] of Object.entries(group)) if (typeof value === 'object') found.push(...rangeViolations(value, [...segments, key]));
  return found;
}

export const massRules: ContentRule[] = [
  {
    id: 'IVI-MASS-001',
    description: 'Actual mass does not exceed the technically permissible maximum laden mass',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check: (input) => notAbove(coc(input), 'MassGroup/ActualMass', 'MassGroup/TechnicallyPermissibleMaximumLadenMass', 'actual mass above maximum laden mass'),
  },
  {
    id: 'IVI-MASS-002',
    description: 'Mass in running order does not exceed the actual mass nor the technically permissible maximum laden mass',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      return [
        ...notAbove(data, 'MassGroup/MassInRunningOrder', 'MassGroup/ActualMass', 'mass in running order above actual mass'),
        ...notAbove(data, 'MassGroup/MassInRunningOrder', 'MassGroup/TechnicallyPermissibleMaximumLadenMass', 'mass in running order above maximum laden mass'),
      ];
    },
  },
  {
    id: 'IVI-MASS-003',
    description: "Each axle's mass in running order does not exceed its technically permissible mass",
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      return rows(coc(input).AxleTable, 'AxleGroup').flatMap((axle, index) => {
        const running = axle.DistributionMassRunningOrderAxle;
        const permissible = axle.TechnicallyPermissibleMassAxle;
        return typeof running === 'number' && typeof permissible === 'number' && running > permissible
          ? [
              {
                path: cocPath('AxleTable', 'AxleGroup', index, 'DistributionMassRunningOrderAxle'),
                message: `axle ${String(axle.AxleNumber ?? index + 1)}: mass in running order ${running} exceeds technically permissible axle mass ${permissible}`,
              },
            ]
          : [];
      });
    },
  },
  {
    id: 'IVI-MASS-004',
    description: 'The technically permissible axle masses together carry at least the maximum laden mass',
    // Centre-axle trailers carry part of their mass on the coupling, so motor vehicles only.
    categories: ['M1', 'M2', 'M3', 'N1', 'N2', 'N3'],
    severity: 'warning',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const axles = rows(data.AxleTable, 'AxleGroup').map((axle) => axle.TechnicallyPermissibleMassAxle);
      const laden = numberAt(data, 'MassGroup/TechnicallyPermissibleMaximumLadenMass');
      if (laden === undefined || axles.length === 0 || !axles.every((mass) => typeof mass === 'number')) return [];
      const sum = (axles as number[]).reduce((total, mass) => total + mass, 0);
      return sum < laden
        ? [{ path: cocPath('AxleTable'), message: `technically permissible axle masses add up to ${sum}, below the maximum laden mass ${laden}` }]
        : [];
    },
  },
  {
    id: 'IVI-RANGE-001',
    description: 'Every minimum does not exceed its maximum, and a value given with a range lies within it',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check: (input) => rangeViolations(input.cocDataGroup, []),
  },
  {
    id: 'IVI-DIM-001',
    description: 'Wheelbase, rear overhang and loading-area length are shorter than the overall length',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      return ['Wheelbase', 'RearOverhang', 'LengthLoadingArea'].flatMap((part) =>
        notAbove(data, `DimensionGroup/${part}`, 'DimensionGroup/Length', `${part} longer than the vehicle`),
      );
    },
  },
  {
    id: 'IVI-GEN-001',
    description: 'Axle counts agree: axle table rows equal the number of axles, and steered/powered/braked/twin-wheel axles do not exceed it',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const axles = numberAt(data, 'GeneralConstructionGroup/NumberOfAxles');
      if (axles === undefined) return [];
      const found: Violation[] = [];
      const table = data.AxleTable === undefined ? undefined : rows(data.AxleTable, 'AxleGroup').length;
      if (table !== undefined && table !== axles) {
        found.push({ path: cocPath('AxleTable'), message: `axle table has ${table} axles, GeneralConstructionGroup/NumberOfAxles says ${axles}` });
      }
      for (const kind of ['NumberOfAxlesWithTwinWheels', 'NumberOfSteeredAxles', 'NumberOfPoweredAxles', 'NumberOfBrakedAxles']) {
        found.push(...notAbove(data, `GeneralConstructionGroup/${kind}`, 'GeneralConstructionGroup/NumberOfAxles', 'more such axles than axles'));
      }
      return found;
    },
  },
];
