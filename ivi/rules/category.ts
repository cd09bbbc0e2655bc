import type { ContentRule } from './types.ts';
import { categoryApplicability } from './category-applicability.ts';
import { categoryFamily, coc, cocPath, valueAt } from './fields.ts';

export const categoryRules: ContentRule[] = [
  {
    id: 'IVI-CAT-001',
    description: 'No field is given that does not apply to the vehicle category (the receiving side rejects it, e.g. colour on M2)',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const data = coc(input);
      const family = categoryFamily(data.VehicleCategory);
      if (!family) return [];
      return categoryApplicability
        .filter((entry) => entry.appliesTo && !entry.appliesTo.includes(family) && valueAt(data, entry.path) !== undefined)
        .map((entry) => ({
          path: cocPath(...entry.path.split('/')),
          message: `${entry.path} does not apply to category ${String(data.VehicleCategory)}: ${entry.why}`,
        }));
    },
  },
  {
    id: 'IVI-CAT-002',
    description: 'Fields required for the vehicle category are present',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const family = categoryFamily(data.VehicleCategory);
      if (!family) return [];
      return categoryApplicability
        .filter((entry) => entry.requiredFor?.includes(family) && valueAt(data, entry.path) === undefined)
        .map((entry) => ({
          path: cocPath(...entry.path.split('/')),
          message: `${entry.path} is required for category ${String(data.VehicleCategory)}: ${entry.why}`,
        }));
    },
  },
];
