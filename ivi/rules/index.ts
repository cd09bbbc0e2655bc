import type { CertificateInput, ContentRule, Finding, RuleContext, RuleOwner } from './types.ts';
import { categoryFamily } from './fields.ts';
import { categoryRules } from './category.ts';
import { dateRules } from './dates.ts';
import { energyRules } from './energy.ts';
import { identityRules } from './identity.ts';
import { mandatoryRules } from './mandatory.ts';
import { massRules } from './masses.ts';
import { stageRules } from './stages.ts';

export type { CategoryFamily, CertificateInput, ContentRule, Finding, RuleContext, RuleOwner, RuleSeverity } from './types.ts';
export { categoryApplicability } from './category-applicability.ts';

/**
 * Content checks beyond the XSD, as a named, versioned rule set. Findings record the version
 * they were produced under, so bump it whenever a rule is added, removed or changes meaning.
 */
export const ruleSetName = 'ecoc-hub IVI 2.0 content rules';
export const ruleSetVersion = '1.0.0';

export const contentRules: readonly ContentRule[] = [
  ...mandatoryRules,
  ...identityRules,
  ...categoryRules,
  ...massRules,
  ...energyRules,
  ...stageRules,
  ...dateRules,
];

/** Runs every rule whose category scope covers the vehicle (unscoped rules always run). */
export function checkCertificate(input: CertificateInput, context: Partial<RuleContext> = {}): Finding[] {
  const resolved: RuleContext = { now: context.now ?? new Date() };
  const family = categoryFamily((input.cocDataGroup as Record<string, unknown>).VehicleCategory);
  return contentRules
    .filter((rule) => rule.categories === 'all' || (family !== undefined && rule.categories.includes(family)))
    .flatMap((rule) =>
      rule.check(input, resolved).map((violation) => ({
        ruleId: rule.id,
        path: violation.path,
        message: violation.message,
        severity: rule.severity,
        owner: rule.owner,
      })),
    );
}

export interface ReadinessSummary {
  ruleSetVersion: string;
  /** No error-level finding: the certificate may go on to review and signing. */
  ready: boolean;
  blocking: Finding[];
  warnings: Finding[];
  /** Per owner, what they have to fix (errors) and to look at (warnings). */
  owners: { owner: RuleOwner; blocking: number; warnings: number; paths: string[] }[];
  /** One line for reviewers, e.g. "blocked by 2 errors: homologation 1, integration 1; 1 warning". */
  text: string;
}

export function readinessSummary(findings: readonly Finding[]): ReadinessSummary {
  const blocking = findings.filter((finding) => finding.severity === 'error');
  const warnings = findings.filter((finding) => finding.severity === 'warning');
  const owners = (['homologation', 'integration', 'reviewer'] as const)
    .map((owner) => {
      const mine = findings.filter((finding) => finding.owner === owner);
      return {
        owner,
        blocking: mine.filter((finding) => finding.severity === 'error').length,
        warnings: mine.filter((finding) => finding.severity === 'warning').length,
        paths: [...new Set(mine.map((finding) => finding.path))],
      };
    })
    .filter((entry) => entry.blocking + entry.warnings > 0);
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const blockers = owners.filter((entry) => entry.blocking > 0).map((entry) => `${entry.owner} ${entry.blocking}`);
  const head = blocking.length === 0 ? 'ready' : `blocked by ${plural(blocking.length, 'error')}: ${blockers.join(', ')}`;
  return {
    ruleSetVersion,
    ready: blocking.length === 0,
    blocking,
    warnings,
    owners,
    text: warnings.length === 0 ? head : `${head}; ${plural(warnings.length, 'warning')}`,
  };
}
