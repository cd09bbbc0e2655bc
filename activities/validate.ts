import type { Prisma } from '../.generated/prisma/client.ts';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
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

/**
 * A destination taken out of the configuration after ingest: the certificate could never be
 * delivered, so it blocks here (where a person sees why) instead of failing at delivery.
 */
function unconfiguredDestination(destination: string | undefined, configured: readonly string[]): Finding[] {
  if (destination === undefined || configured.includes(destination)) return [];
  return [
    {
      ruleId: 'ECOC-DEST-001',
      path: 'destination',
      message: `destination "${destination}" is not configured; configured: ${configured.length > 0 ? configured.join(', ') : 'none'}. Correct the destination or configure it`,
      severity: 'error',
      owner: 'integration',
    },
  ];
}

export function createValidateActivities({ db, config }: Pick<ActivityDependencies, 'db' | 'config'>) {
  return {
    /**
     * Runs the content rules on the composed data. Findings are a business outcome returned to
     * the workflow (which blocks on errors), never an activity failure.
     */
    async validateCertificate(input: { certificateId: string; dataVersion: number; messageVersion: number; audit: AuditEntry[] }): Promise<FindingsSummary> {
      const data = await loadCertificateData(db, input.certificateId, input.dataVersion);
      const header = iviHeader(data.dataVersion.record, { iviReferenceId: PROVISIONAL_REFERENCE_ID, messageVersion: input.messageVersion, at: new Date() });
      const findings = [
        ...(data.typeApprovalKnown ? [] : [unknownTypeApproval]),
        ...unconfiguredDestination(data.dataVersion.record.destination, await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE)),
        ...checkCertificate({ header, cocDataGroup: data.values }),
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
