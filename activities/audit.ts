import { writeAuditEntries } from '../audit/workflow-entries.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';

export function createAuditActivities({ db }: Pick<ActivityDependencies, 'db'>) {
  return {
    /** Writes audit entries that no other step carried (the workflow is about to wait). */
    async recordAudit({ entries }: { entries: AuditEntry[] }): Promise<void> {
      await writeAuditEntries(db, entries);
    },
  };
}
