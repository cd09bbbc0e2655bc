import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { iviHeader, loadCertificateData } from '../certificates/certificate-data.ts';
import { sha256Hex } from '../platform/hash.ts';
import { writeIvi } from '../ivi/writer.ts';
import type { CocDataGroup, IviMessage } from '../schemas/ivi/index.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { nonRetryable } from './failures.ts';

export function createGenerateActivities({ db }: Pick<ActivityDependencies, 'db'>) {
  return {
    /**
     * Builds the IVI 2.0 message for a validated data version and stores it after XSD validation.
     * The reference id comes from the workflow, so a retry rewrites the same message, never a second one.
     */
    async generateMessage(input: { certificateId: string; dataVersion: number; messageVersion: number; iviReferenceId: string; audit: AuditEntry[] }): Promise<{ messageHash: string }> {
      const existing = await db.certificateMessage.findUnique({ where: { iviReferenceId: input.iviReferenceId } });
      if (existing) {
        await writeAuditEntries(db, input.audit);
        return { messageHash: existing.unsignedHash };
      }
      const data = await loadCertificateData(db, input.certificateId, input.dataVersion);
      const { record } = data.dataVersion;
      const message = {
        header: iviHeader(record, { iviReferenceId: input.iviReferenceId, messageVersion: input.messageVersion, at: new Date() }),
        cocDataGroup: data.values as CocDataGroup,
      } as IviMessage;
      let xml: string;
      try {
        xml = writeIvi(message);
      } catch (error) {
        // Validation should have blocked this data; a schema failure here is not worth retrying.
        nonRetryable(error);
      }
      const messageHash = sha256Hex(xml);
      await db.$transaction(async (tx) => {
        await tx.certificateMessage.create({
          data: {
            iviReferenceId: input.iviReferenceId,
            certificateId: input.certificateId,
            messageVersion: input.messageVersion,
            dataVersion: input.dataVersion,
            unsignedXml: xml,
            unsignedHash: messageHash,
          },
        });
        await writeAuditEntries(tx, input.audit);
      });
      return { messageHash };
    },
  };
}
