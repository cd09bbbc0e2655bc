import type { ContentRule, RuleContext } from './types.ts';
import { coc, cocPath, rows } from './fields.ts';

/**
 * xs:date values are compared by their calendar day. "In the future" means after today in the
 * earliest time zone (UTC+14), so a date is never flagged only because of the server's zone.
 */
function day(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : undefined;
}

function latestToday(context: RuleContext): string {
  return new Date(context.now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}

export const dateRules: ContentRule[] = [
  {
    id: 'IVI-DATE-001',
    description: 'The date of manufacture is not in the future',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input, context) {
      const manufactured = day(coc(input).DateManufactureVehicle);
      const today = latestToday(context);
      return manufactured && manufactured > today
        ? [{ path: cocPath('DateManufactureVehicle'), message: `date of manufacture ${manufactured} is after today (${today})` }]
        : [];
    },
  },
  {
    id: 'IVI-DATE-002',
    description: 'The type approval was issued on or before the date of manufacture',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      const data = coc(input);
      const issued = day(data.TypeApprovalIssueDate);
      const manufactured = day(data.DateManufactureVehicle);
      return issued && manufactured && issued > manufactured
        ? [{ path: cocPath('TypeApprovalIssueDate'), message: `type approval issued ${issued}, after the date of manufacture ${manufactured}` }]
        : [];
    },
  },
  {
    id: 'IVI-DATE-003',
    description: 'The type-approval issue date is not in the future',
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input, context) {
      const issued = day(coc(input).TypeApprovalIssueDate);
      const today = latestToday(context);
      return issued && issued > today ? [{ path: cocPath('TypeApprovalIssueDate'), message: `type-approval issue date ${issued} is after today (${today})` }] : [];
    },
  },
  {
    id: 'IVI-DATE-004',
    description: 'The CoC is signed on or after the date of manufacture and not in the future',
    categories: 'all',
    severity: 'warning',
    owner: 'reviewer',
    check(input, context) {
      const data = coc(input);
      const manufactured = day(data.DateManufactureVehicle);
      const today = latestToday(context);
      return rows(data.SigningAuthorityTable, 'SigningAuthorityGroup').flatMap((signer, index) => {
        const signed = day(signer.SignatureDate);
        const path = cocPath('SigningAuthorityTable', 'SigningAuthorityGroup', index, 'SignatureDate');
        if (signed && signed > today) return [{ path, message: `signature date ${signed} is after today (${today})` }];
        if (signed && manufactured && signed < manufactured) return [{ path, message: `signature date ${signed} is before the date of manufacture ${manufactured}` }];
        return [];
      });
    },
  },
];
