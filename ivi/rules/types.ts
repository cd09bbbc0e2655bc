import type { CocDataGroupValues, IviHeader } from '../../schemas/ivi/index.ts';

export type RuleSeverity = 'error' | 'warning';
/** Who fixes a finding: type-approval data (homologation), the data feed (integration), the reviewer. */
export type RuleOwner = 'homologation' | 'integration' | 'reviewer';

/**
 * Vehicle category families the rules are scoped by: M1…N3 individually, the other classes as a
 * whole (O trailers, L two/three-wheelers and quadricycles, T/C/R/S agricultural and forestry).
 */
export const categoryFamilies = ['M1', 'M2', 'M3', 'N1', 'N2', 'N3', 'O', 'L', 'T', 'C', 'R', 'S'] as const;
export type CategoryFamily = (typeof categoryFamilies)[number];

/** What the rules read: a complete message, or composed data that may still have gaps. */
export interface CertificateInput {
  header?: Partial<IviHeader>;
  cocDataGroup: CocDataGroupValues;
}

export interface RuleContext {
  /** "Today" for date rules; defaults to the current time. */
  now: Date;
}

export interface Violation {
  /** Field path, e.g. `CocDataGroup/MassGroup/ActualMass`. */
  path: string;
  message: string;
}

export interface ContentRule {
  id: string;
  description: string;
  categories: 'all' | readonly CategoryFamily[];
  severity: RuleSeverity;
  owner: RuleOwner;
  check(input: CertificateInput, context: RuleContext): Violation[];
}

export interface Finding {
  ruleId: string;
  path: string;
  message: string;
  severity: RuleSeverity;
  owner: RuleOwner;
}
