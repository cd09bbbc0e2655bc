import { activityInfo, heartbeat } from '@temporalio/activity';
import { configuredDestinationIds } from '../connectors/delivery/destinations.ts';
import { withSftpSession } from '../connectors/sftp/client.ts';
import { listInboxFiles, processInboxFile } from '../inbox/files.ts';
import { loadErpMappings } from '../inbox/mappings.ts';
import { InboxConfigError, inboxSettings, type InboxSettings } from '../inbox/settings.ts';
import { reviewPolicy } from '../platform/review-policy.ts';
import type { Actor } from '../schemas/certificate.ts';
import { inboxProgressSignal } from '../workflows/inbox/definitions.ts';
import type { InboxFileOutcome, InboxFileProgress, InboxFileRef } from '../workflows/inbox/types.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { nonRetryable, rethrowClassified } from './failures.ts';

/** The identity inbox files are ingested under (four-eyes: never a reviewer). */
export const INBOX_ACTOR: Actor = { id: 'erp-inbox', roles: ['integrator'] };

const PROGRESS_SIGNAL_EVERY_MS = 1_000;
const HEARTBEAT_EVERY_MS = 10_000;

export function createInboxActivities({ db, logger, config, client }: Pick<ActivityDependencies, 'db' | 'logger' | 'config' | 'client'>) {
  const log = logger.child({ component: 'inbox' });
  const settings = (): InboxSettings => {
    const configured = inboxSettings(config);
    if (!configured) nonRetryable(new InboxConfigError('the ERP inbox is not configured on this worker (ECOC_INBOX_SFTP_HOST is unset)'));
    return configured;
  };

  return {
    /** New inbox files, plus the poll interval the worker is configured with. */
    async listInboxFiles(): Promise<{ files: InboxFileRef[]; pollIntervalMs: number }> {
      const inbox = settings();
      const mappings = await loadErpMappings(inbox.mappingsFile);
      const files = await withSftpSession(inbox.endpoint, { logger: log }, (session) => listInboxFiles(session, mappings.keys())).catch(rethrowClassified);
      return { files, pollIntervalMs: inbox.pollIntervalMs };
    },

    /**
     * One file to processed/ or rejected/. Heartbeats carry the progress; the poller gets it as
     * a signal at most once a second (its query shows it) so the history stays small.
     */
    async processInboxFile(input: { file: InboxFileRef }): Promise<InboxFileOutcome> {
      const inbox = settings();
      const mappings = await loadErpMappings(inbox.mappingsFile);
      const destinations = await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE);
      const pollerId = activityInfo().workflowExecution?.workflowId;
      const poller = pollerId ? client.workflow.getHandle(pollerId) : undefined;
      let signalledAt = 0;
      let latest: InboxFileProgress | undefined;
      // A row waiting on a busy certificate workflow is not a dead worker: keep heartbeating.
      const alive = setInterval(() => heartbeat(latest), HEARTBEAT_EVERY_MS);
      const onProgress = (progress: InboxFileProgress) => {
        latest = progress;
        heartbeat(progress);
        const now = Date.now();
        if (!poller || now - signalledAt < PROGRESS_SIGNAL_EVERY_MS) return;
        signalledAt = now;
        poller.signal(inboxProgressSignal, progress).catch((error: unknown) => log.debug({ err: error }, 'progress signal not delivered'));
      };
      return withSftpSession(inbox.endpoint, { logger: log }, (session) =>
        processInboxFile(
          {
            db,
            session,
            mappings,
            ingest: { db, client, taskQueue: config.ECOC_TASK_QUEUE, review: reviewPolicy(config), destinations },
            actor: INBOX_ACTOR,
            logger: log,
            onProgress,
          },
          input.file,
        ),
      )
        .catch(rethrowClassified)
        .finally(() => clearInterval(alive));
    },
  };
}
