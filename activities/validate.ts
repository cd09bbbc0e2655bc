import type { Prisma } from '../.generated/prisma/client.ts';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
import { iviHeader, loadCertificateData, type CertificateData } from '../certificates/certificate-data.ts';
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

/** The content rules, the master-data check and the destination check on composed data. */
export function findingsOf(data: CertificateData, messageVersion: number, configuredDestinations: readonly string[]): Finding[] {
  const { record } = data.dataVersion;
  const header = iviHeader(record, { iviReferenceId: PROVISIONAL_REFERENCE_ID, messageVersion, at: new Date() });
  return [
    ...(data.typeApprovalKnown ? [] : [unknownTypeApproval]),
    ...unconfiguredDestination(record.destination, configuredDestinations),
    ...checkCertificate({ header, cocDataGroup: data.values }),
  ];
}

/** Keeps the findings with the data version they were made on. */
export async function storeFindings(tx: Prisma.TransactionClient, certificateId: string, dataVersion: number, findings: Finding[]): Promise<void> {
  await tx.certificateDataVersion.update({
    where: { certificateId_version: { certificateId, version: dataVersion } },
    data: { findings: findings as unknown as Prisma.InputJsonValue, ruleSetVersion },
  });
}

/** What the workflow keeps of the findings: counts and the first blocking errors. */
export function summariseFindings(findings: Finding[]): FindingsSummary {
  const errors = findings.filter((finding) => finding.severity === 'error');
  return {
    ruleSetVersion,
    errors: errors.length,
    warnings: findings.length - errors.length,
    blocking: errors.slice(0, 50).map(({ ruleId, path, message, owner }) => ({ ruleId, path, message, owner })),
  };
}

export function createValidateActivities({ db, config }: Pick<ActivityDependencies, 'db' | 'config'>) {
  return {
    /**
     * Runs the content rules on the composed data. Findings are a business outcome returned to
     * the workflow (which blocks on errors), never an activity failure. Called by runs recorded
     * before validation and generation became one step (`validateAndGenerate`).
     */
    async validateCertificate(input: { certificateId: string; dataVersion: number; messageVersion: number; audit: AuditEntry[] }): Promise<FindingsSummary> {
      const data = await loadCertificateData(db, input.certificateId, input.dataVersion);
      const findings = findingsOf(data, input.messageVersion, await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE));
      await db.$transaction(async (tx) => {
        await storeFindings(tx, input.certificateId, input.dataVersion, findings);
        await writeAuditEntries(tx, input.audit);
      });
      return summariseFindings(findings);
    },
  };
}
