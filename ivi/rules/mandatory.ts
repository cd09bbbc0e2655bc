import type { ContentRule, Violation } from './types.ts';
import { coc, cocPath, isBlank, rows } from './fields.ts';
import { iviMessageSchema, cocDataGroupSchema } from '../../schemas/ivi/index.ts';
import { fieldPath } from '../paths.ts';

/** Content IVI 2.0 requires beyond the XSD's minOccurs, and the model itself for composed data. */
export const mandatoryRules: ContentRule[] = [
  {
    id: 'IVI-MODEL-001',
    description: 'The data is a complete, schema-conformant IVI 2.0 message (types, lengths, code lists, mandatory elements)',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const result = input.header ? iviMessageSchema.safeParse(input) : cocDataGroupSchema.safeParse(input.cocDataGroup);
      if (result.success) return [];
      return result.error.issues.map((issue) => ({
        path: input.header ? fieldPath(issue.path) : fieldPath(issue.path, 'CocDataGroup'),
        message: issue.message,
      }));
    },
  },
  {
    id: 'IVI-MAND-001',
    description: "The signing authority's name, position, place and date are filled in",
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const signers = rows(coc(input).SigningAuthorityTable, 'SigningAuthorityGroup');
      if (signers.length === 0) return [{ path: cocPath('SigningAuthorityTable'), message: 'no signing authority given' }];
      return signers.flatMap((signer, index) =>
        ['SignerName', 'SignerPosition', 'SignatureLocation', 'SignatureDate']
          .filter((field) => isBlank(signer[field]))
          .map((field) => ({ path: cocPath('SigningAuthorityTable', 'SigningAuthorityGroup', index, field), message: `${field} is empty` })),
      );
    },
  },
  {
    id: 'IVI-MAND-002',
    description: 'Every manufacturer entry has its stage number and name',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const manufacturers = rows(coc(input).ManufacturerTable, 'ManufacturerGroup');
      if (manufacturers.length === 0) return [{ path: cocPath('ManufacturerTable'), message: 'no manufacturer given' }];
      return manufacturers.flatMap((group, index): Violation[] =>
        ['ManufacturerStageNumber', 'ManufacturerName']
          .filter((field) => isBlank(group[field]))
          .map((field) => ({ path: cocPath('ManufacturerTable', 'ManufacturerGroup', index, field), message: `${field} is empty` })),
      );
    },
  },
  {
    id: 'IVI-MAND-003',
    description: 'The groups GeneralConstruction, Mass and Dimension are present',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      return ['GeneralConstructionGroup', 'MassGroup', 'DimensionGroup']
        .filter((group) => data[group] === undefined)
        .map((group) => ({ path: cocPath(group), message: `${group} is missing` }));
    },
  },
];
