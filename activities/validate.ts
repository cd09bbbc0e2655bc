import type { Prisma } from '../.generated/prisma/client.ts';
import { writeAuditEntries } from '../certificates/audit-store.ts';
import { designatedTypeApprovalCountry, loadCertificateData } from '../certificates/certificate-data.ts';
import { fieldPath } from '../ivi/paths.ts';
import { checkCertificate, ruleSetVersion, type Finding } from '../ivi/rules/index.ts';
import { cocDataGroupSchema } from '../schemas/ivi/index.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { FindingsSummary } from '../workflows/certificate/types.ts';
import type { ActivityDependencies } from './dependencies.ts';

/** Findings the activity adds beside the content rules: schema completeness and master data. */
function completenessFindings(values: unknown, typeApprovalKnown: boolean): Finding[] {
  const findings: Finding[] = [];
  const parsed = cocDataGroupSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      findings.push({
        ruleId: 'IVI-XSD-001',
        path: fieldPath(issue.path, 'CocDataGroup'),
        message: `not a valid IVI 2.0 value: ${issue.message}`,
        severity: 'error',
        owner: 'integration',
      });
    }
  }
  if (!typeApprovalKnown) {
    findings.push({
      ruleId: 'ECOC-TA-001',
      path: 'CocDataGroup/TypeApprovalNumber',
      message: 'the type approval/variant/version is not in the master data, so approved values were not applied or cross-checked',
      severity: 'warning',
      owner: 'homologation',
    });
  }
  return findings;
}

export function createValidateActivities({ db, lookupTypeApproval }: Pick<ActivityDependencies, 'db' | 'lookupTypeApproval'>) {
  return {
    /**
     * Runs the content rules on the composed data. Findings are a business outcome returned to
     * the workflow (which blocks on errors), never an activity failure.
     */
    async validateCertificate(input: { certificateId: string; dataVersion: number; audit: AuditEntry[] }): Promise<FindingsSummary> {
      const data = await loadCertificateData(db, lookupTypeApproval, input.certificateId, input.dataVersion);
      const country = designatedTypeApprovalCountry(data.dataVersion.record.typeApprovalNumber);
      const findings = [
        ...completenessFindings(data.values, data.typeApprovalKnown),
        ...checkCertificate({ header: country ? { DesignatedTypeApprovalCountry: country as never } : {}, cocDataGroup: data.values }),
      ];
      await db.$transaction(async (tx) => {
        await tx.certificateDataVersion.update({
          where: { certificateId_version: { certificateId: input.certificateId, version: input.dataVersion } },
          data: { findings: findings as unknown as Prisma.InputJsonValue, ruleSetVersion },
        });
        await writeAuditEntries(tx, input.audit);
      });
      const errors = findings.filter((finding) => finding.severity === 'error');
      return {
        ruleSetVersion,
        errors: errors.length,
        warnings: findings.length - errors.length,
        blocking: errors.slice(0, 50).map(({ ruleId, path, message, owner }) => ({ ruleId, path, message, owner })),
      };
    },
  };
}
