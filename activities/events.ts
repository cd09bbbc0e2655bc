import { recordAudit } from '../audit/chain.ts';
import { eventActions } from '../events/catalogue.ts';
import type { ReleaseProgress } from '../workflows/release/definitions.ts';
import { SYSTEM } from '../workflows/certificate/state.ts';
import type { ActivityDependencies } from './dependencies.ts';

/** Occurrences that no other step records: written to the audit trail, and so to the event outbox. */
export function createEventActivities({ db }: Pick<ActivityDependencies, 'db'>) {
  return {
    /** A release run's outcome, in the hub's audit chain once per batch (the `release_run.finished` event). */
    async recordReleaseFinished(progress: ReleaseProgress): Promise<void> {
      const { batchId, destination, requestedBy, expected, selected, claimed, skipped, delivered, failed, failedPermanently, remaining, packages, startedAt, finishedAt } = progress;
      await recordAudit(db, [
        {
          entryKey: `release-finished:${batchId}`,
          occurredAt: finishedAt ? new Date(finishedAt) : new Date(),
          actor: SYSTEM,
          action: eventActions.releaseRunFinished,
          certificateId: null,
          detail: { batchId, destination, requestedBy: requestedBy ?? null, expected, selected, claimed, skipped, delivered, failed, failedPermanently, remaining, packages, startedAt, finishedAt: finishedAt ?? null },
        },
      ]);
    },
  };
}
