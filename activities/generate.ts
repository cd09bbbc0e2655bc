import type { Prisma } from '../.generated/prisma/client.ts';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { iviHeader, loadCertificateData, type CertificateData } from '../certificates/certificate-data.ts';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
import { sha256Hex } from '../platform/hash.ts';
import { writeIvi } from '../ivi/writer.ts';
import type { FindingsSummary } from '../schemas/certificate.ts';
import type { CocDataGroup, IviMessage } from '../schemas/ivi/index.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { nonRetryable } from './failures.ts';
import { findingsOf, storeFindings, summariseFindings } from './validate.ts';

interface MessageInput {
  certificateId: string;
  dataVersion: number;
  messageVersion: number;
  iviReferenceId: string;
  audit: AuditEntry[];
}

/** The IVI 2.0 XML of composed data, with its hash. */
function composeMessage(data: CertificateData, input: MessageInput): { xml: string; messageHash: string } {
  const message = {
    header: iviHeader(data.dataVersion.record, { iviReferenceId: input.iviReferenceId, messageVersion: input.messageVersion, at: new Date() }),
    cocDataGroup: data.values as CocDataGroup,
  } as IviMessage;
  let xml: string;
  try {
    xml = writeIvi(message);
  } catch (error) {
    // Validation should have blocked this data; a schema failure here is not worth retrying.
    nonRetryable(error);
  }
  return { xml, messageHash: sha256Hex(xml) };
}

async function storeMessage(tx: Prisma.TransactionClient, input: MessageInput, message: { xml: string; messageHash: string }): Promise<void> {
  await tx.certificateMessage.create({
    data: {
      iviReferenceId: input.iviReferenceId,
      certificateId: input.certificateId,
      messageVersion: input.messageVersion,
      dataVersion: input.dataVersion,
      unsignedXml: message.xml,
      unsignedHash: message.messageHash,
    },
  });
}

export function createGenerateActivities({ db, config }: Pick<ActivityDependencies, 'db' | 'config'>) {
  /** The message already stored under this reference id (a retry after the transaction committed). */
  const storedHash = async (iviReferenceId: string) =>
    (await db.certificateMessage.findUnique({ where: { iviReferenceId }, select: { unsignedHash: true } }))?.unsignedHash;

  return {
    /**
     * Validation and generation as one step, on data composed once: the content rules run, and
     * unless they find a blocking error the IVI 2.0 message is built and stored with the findings
     * and the audit entries in one transaction. `messageHash` is absent when the data is blocked.
     * The reference id comes from the workflow, so a retry returns the same message, never a second one.
     */
    async validateAndGenerate(input: MessageInput): Promise<{ findings: FindingsSummary; messageHash?: string | undefined }> {
      const data = await loadCertificateData(db, input.certificateId, input.dataVersion);
      const findings = findingsOf(data, input.messageVersion, await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE));
      const summary = summariseFindings(findings);
      const existing = await storedHash(input.iviReferenceId);
      const message = summary.blocking.length > 0 || existing !== undefined ? undefined : composeMessage(data, input);
      await db.$transaction(async (tx) => {
        await storeFindings(tx, input.certificateId, input.dataVersion, findings);
        if (message) await storeMessage(tx, input, message);
        await writeAuditEntries(tx, input.audit);
      });
      return { findings: summary, messageHash: existing ?? message?.messageHash };
    },

    /**
     * Builds the IVI 2.0 message for a validated data version and stores it after XSD validation.
     * Called by runs recorded before validation and generation became one step.
     */
    async generateMessage(input: MessageInput): Promise<{ messageHash: string }> {
      const existing = await storedHash(input.iviReferenceId);
      if (existing !== undefined) {
        await writeAuditEntries(db, input.audit);
        return { messageHash: existing };
      }
      const message = composeMessage(await loadCertificateData(db, input.certificateId, input.dataVersion), input);
      await db.$transaction(async (tx) => {
        await storeMessage(tx, input, message);
        await writeAuditEntries(tx, input.audit);
      });
      return { messageHash: message.messageHash };
    },
  };
}
