import { createTypeApprovalRepository } from '../../ivi/type-approvals/repository.ts';
import type { Database } from '../../platform/database/prisma.ts';
import type { RevisionMeta, TypeApprovalInput } from '../../schemas/ivi/type-approval.ts';

/** Master data as a homologation team leaves it: drafted by one person, published by another. */
export async function storePublishedApproval(
  db: Database,
  approval: TypeApprovalInput,
  revision: Partial<RevisionMeta> = {},
): Promise<{ typeApprovalId: string; revisionId: string }> {
  const repository = createTypeApprovalRepository(db);
  const draft = await repository.saveDraft(
    { ...approval, revision: { extensionNumber: '00', effectiveDate: approval.issueDate, reason: 'master data for the test', ...revision } },
    'drafter@homologation.test',
  );
  await repository.publish(draft.revisionId, 'publisher@homologation.test', 'all');
  return { typeApprovalId: draft.typeApprovalId, revisionId: draft.revisionId };
}
