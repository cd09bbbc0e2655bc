import { writeAuditEntries } from '../audit/workflow-entries.ts';
import { sha256Hex } from '../platform/hash.ts';
import { signAndCheck } from '../signing/sign-and-check.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { SignatureInfo } from '../schemas/certificate.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { nonRetryable, rethrowClassified } from './failures.ts';

export function createSignActivities({ db, signer, signingWork, config }: Pick<ActivityDependencies, 'db' | 'signer' | 'signingWork' | 'config'>) {
  return {
    /**
     * Seals the generated message with the HSM (or software key), verifies the signature against
     * the configured certificate and validates the signed bytes against the official XSD; only
     * then are the signed bytes stored, exactly as signed. Idempotent: a message already signed
     * returns its recorded signature.
     */
    async signMessage(input: { certificateId: string; iviReferenceId: string; audit: AuditEntry[] }): Promise<SignatureInfo> {
      const message = await db.certificateMessage.findUnique({ where: { iviReferenceId: input.iviReferenceId } });
      if (!message) nonRetryable(new Error(`no generated message ${input.iviReferenceId} for ${input.certificateId}`));
      if (message.signedXml && message.signedHash && message.signatureValue && message.certificateFingerprint && message.signedAt) {
        await writeAuditEntries(db, input.audit);
        return summary(message.certificateFingerprint, message.signedHash, message.signatureValue, message.signedAt);
      }
      const signed = await signAndCheck(message.unsignedXml, signer, { work: signingWork, xades: config.ECOC_SIGNING_XADES }).catch(rethrowClassified);
      const signedAt = new Date();
      await db.$transaction(async (tx) => {
        await tx.certificateMessage.update({
          where: { iviReferenceId: input.iviReferenceId },
          data: {
            signedXml: Buffer.from(signed.signedXml, 'utf8'),
            signedHash: signed.documentHash,
            signatureValue: signed.signatureValue,
            certificateFingerprint: signed.certificateFingerprint,
            signedAt,
          },
        });
        await writeAuditEntries(tx, input.audit);
      });
      return summary(signed.certificateFingerprint, signed.documentHash, signed.signatureValue, signedAt);
    },
  };
}

function summary(certificateFingerprint: string, documentHash: string, signatureValue: string, signedAt: Date): SignatureInfo {
  return { certificateFingerprint, documentHash, signatureValueHash: sha256Hex(signatureValue), signedAt: signedAt.toISOString() };
}
