import type { ContentRule } from './types.ts';
import { coc, cocPath } from './fields.ts';

/** ISO 3779: 17 characters, digits and capitals without I, O and Q (no check digit in the EU). */
const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;

/**
 * Annex IV of (EU) 2020/683 / 2018/858: `e<MS>*<base act>[*<amending act>]*<sequence>*<extension>`,
 * e.g. `e6*2018/858*00264*01`; older approvals have a 4-digit sequence (`e1*2007/46*1797*17`)
 * and L/T approvals cite 168/2013 or 167/2013.
 */
const EU_TYPE_APPROVAL_NUMBER = /^e(\d{1,2})\*\d{2,4}\/\d{1,4}(?:\*\d{2,4}\/\d{1,4})?\*\d{4,5}\*\d{2}$/;
const COUNTRY_SECTION = /^(e\d{1,2})\*/;

export const identityRules: ContentRule[] = [
  {
    id: 'IVI-VIN-001',
    description: 'VIN has 17 characters, digits and capital letters except I, O and Q (ISO 3779)',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const vin = coc(input).VehicleIdentificationNumber;
      if (typeof vin !== 'string') return [{ path: cocPath('VehicleIdentificationNumber'), message: 'VIN is missing' }];
      if (VIN.test(vin)) return [];
      const reason =
        vin.length !== 17 ? `has ${vin.length} characters, expected 17` : /[IOQ]/.test(vin) ? 'contains I, O or Q' : 'contains characters other than A-Z and 0-9';
      return [{ path: cocPath('VehicleIdentificationNumber'), message: `VIN ${JSON.stringify(vin)} ${reason}` }];
    },
  },
  {
    id: 'IVI-TAN-001',
    description: 'An EU whole-vehicle type-approval number follows Annex IV: e<MS>*<act>*<sequence>*<extension>',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const number = data.TypeApprovalNumber;
      if (data.TypeApprovalType !== 'EU' || typeof number !== 'string' || EU_TYPE_APPROVAL_NUMBER.test(number)) return [];
      return [
        {
          path: cocPath('TypeApprovalNumber'),
          message: `type-approval number ${JSON.stringify(number)} is not in the Annex IV format e<MS>*<act>*<sequence>*<extension> (e.g. e6*2018/858*00264*01)`,
        },
      ];
    },
  },
  {
    id: 'IVI-TAN-002',
    description: "The type-approval number's Member State section matches Header/DesignatedTypeApprovalCountry",
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const number = coc(input).TypeApprovalNumber;
      const designated = input.header?.DesignatedTypeApprovalCountry;
      const country = typeof number === 'string' ? COUNTRY_SECTION.exec(number)?.[1] : undefined;
      if (country === undefined || designated === undefined || country === designated) return [];
      return [
        {
          path: 'Header/DesignatedTypeApprovalCountry',
          message: `designated type-approval country ${designated} differs from ${country} in type-approval number ${number}`,
        },
      ];
    },
  },
];
