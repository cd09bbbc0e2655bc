import type { Prisma } from '../.generated/prisma/client.ts';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { iviHeader, loadCertificateData } from '../certificates/certificate-data.ts';
import { checkCertificate, ruleSetVersion, type Finding } from '../ivi/rules/index.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { FindingsSummary } from '../schemas/certificate.ts';
import type { ActivityDependencies } from './dependencies.ts';

/** The master-data finding the content rules cannot make: they never see the approval itself. */
const unknownTypeApproval: Finding = {
  ruleId: 'ECOC-TA-001',
  path: 'CocDataGroup/TypeApprovalNumber',
  message: 'the type approval/variant/version is not in the master data, so approved values were not applied or cross-checked',
  severity: 'warning',
  owner: 'homologation',
};

/** Validation sees the header the message will get; only the reference id is provisional. */
const PROVISIONAL_REFERENCE_ID = '00000000-0000-4000-8000-000000000000';

export function createValidateActivities({ db }: Pick<ActivityDependencies, 'db'>) {
  return {
    /**
     * Runs the content rules on the composed data. Findings are a business outcome returned to
     * the workflow (which blocks on errors), never an activity failure.
     */
    async validateCertificate(input: { certificateId: string; dataVersion: number; messageVersion: number; audit: AuditEntry[] }): Promise<FindingsSummary> {
      const data = await loadCertificateData(db, input.certificateId, input.dataVersion);
      const header = iviHeader(data.dataVersion.record, { iviReferenceId: PROVISIONAL_REFERENCE_ID, messageVersion: input.messageVersion, at: new Date() });
      const findings = [...(data.typeApprovalKnown ? [] : [unknownTypeApproval]), ...checkCertificate({ header, cocDataGroup: data.values })];
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
