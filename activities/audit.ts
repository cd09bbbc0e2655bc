import { ApplicationFailure } from '@temporalio/activity';
import { AuditCheckpointError, takeCheckpoint, type CheckpointState } from '../audit/checkpoint.ts';
import { appendWitnessFile, publishCheckpoint, witnessFilePath } from '../audit/witness.ts';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import type { CheckpointResult, WitnessedCheckpoint } from '../workflows/audit/types.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';

export function createAuditActivities({ db, signer, config, logger }: Pick<ActivityDependencies, 'db' | 'signer' | 'config' | 'logger'>) {
  /** The leaf set after the latest checkpoint, so the next one need not replay them all. */
  const cache: { state?: CheckpointState | undefined } = {};
  return {
    /** Writes audit entries that no other step carried (the workflow is about to wait). */
    async recordAudit({ entries }: { entries: AuditEntry[] }): Promise<void> {
      await writeAuditEntries(db, entries);
    },

    /**
     * For the witness workflow: a signed checkpoint over every chain's head (none when nothing
     * changed), continuing the one the witness holds, also appended to the witness file.
     */
    async takeAuditCheckpoint({ witnessed }: { witnessed: { number: number; digest: string } | null }): Promise<CheckpointResult> {
      let taken;
      try {
        taken = await takeCheckpoint(db, signer, { witnessed, cache });
      } catch (error) {
        if (error instanceof AuditCheckpointError) throw ApplicationFailure.nonRetryable(error.message, error.name);
        throw error;
      }
      if (taken.checkpoint) {
        await appendWitnessFile(witnessFilePath(config), taken.checkpoint);
        logger.info({ checkpoint: taken.checkpoint.number, root: taken.checkpoint.root, chains: taken.checkpoint.leafCount, replayed: taken.replayed }, 'audit checkpoint');
      }
      return { checkpoint: taken.checkpoint, intervalMs: config.ECOC_AUDIT_CHECKPOINT_INTERVAL, publish: config.ECOC_AUDIT_WITNESS_WEBHOOK_URL !== undefined };
    },

    /** Exports a witnessed checkpoint to ECOC_AUDIT_WITNESS_WEBHOOK_URL. */
    async publishAuditCheckpoint({ checkpoint }: { checkpoint: WitnessedCheckpoint }): Promise<void> {
      if (config.ECOC_AUDIT_WITNESS_WEBHOOK_URL) await publishCheckpoint(config.ECOC_AUDIT_WITNESS_WEBHOOK_URL, checkpoint);
    },
  };
}
