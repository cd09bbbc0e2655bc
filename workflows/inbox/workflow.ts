import { ActivityFailure, allHandlersFinished, condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { inboxProgressSignal, inboxStateQuery, requestPollUpdate } from './definitions.ts';
import type { InboxState, InboxWorkflowInput } from './types.ts';

const RECENT_FILES = 20;

const listing = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3, nonRetryableErrorTypes: ['PermanentConnectorError', 'ErpMappingsError'] },
});
/** Large files take long; the heartbeat (every chunk and row) is what notices a dead worker. */
const processing = proxyActivities<Activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: ['PermanentConnectorError', 'ErpMappingsError'] },
});

/**
 * The ERP inbox poller: lists new files, processes them one by one, then sleeps for the poll
 * interval (or until someone asks for a poll). A long-running workflow with a timer rather than
 * a Schedule: its state (files seen and processed, the current file's rows) is one query away,
 * a poll can be requested and awaited (`requestPollUpdate`), and polls can never overlap. The
 * interval comes from the worker's configuration through the listing activity, so changing it
 * needs no restart of this workflow. A failed poll (SFTP server down) is recorded and the next
 * one comes on schedule; files left in the inbox are simply found again. Continues as new when
 * the history grows.
 */
export async function inboxWorkflow(input: InboxWorkflowInput = {}): Promise<InboxState> {
  const state: InboxState = input.carried ?? {
    polls: 0,
    filesSeen: 0,
    filesProcessed: 0,
    filesRejected: 0,
    duplicates: 0,
    recent: [],
    pollRequests: 0,
    pollRequestsAnswered: 0,
  };
  setHandler(inboxStateQuery, () => state);
  setHandler(requestPollUpdate, () => {
    state.pollRequests += 1;
    return { ticket: state.pollRequests };
  });
  setHandler(inboxProgressSignal, (progress) => {
    if (state.current?.manufacturerId === progress.manufacturerId && state.current.name === progress.name) state.current = { ...state.current, ...progress };
  });

  let pollIntervalMs = 60_000;
  for (;;) {
    const answering = state.pollRequests;
    await poll();
    state.polls += 1;
    state.lastPollAt = new Date().toISOString();
    state.pollRequestsAnswered = answering;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 10_000) break;
    await condition(() => state.pollRequests > state.pollRequestsAnswered, pollIntervalMs);
  }
  await condition(allHandlersFinished);
  return continueAsNew<typeof inboxWorkflow>({ carried: state });

  async function poll(): Promise<void> {
    let failed = false;
    try {
      const listed = await listing.listInboxFiles();
      pollIntervalMs = listed.pollIntervalMs;
      for (const file of listed.files) {
        state.filesSeen += 1;
        state.current = { ...file, phase: 'hashing', bytesHashed: 0, rowsDone: 0, startedAt: new Date().toISOString() };
        try {
          const done = await processing.processInboxFile({ file });
          if (done.disposition === 'processed') state.filesProcessed += 1;
          else if (done.disposition === 'rejected') state.filesRejected += 1;
          else state.duplicates += 1;
          state.recent = [...state.recent, done].slice(-RECENT_FILES);
        } catch (error) {
          // The file stays in the inbox and is tried again at the next poll.
          failed = true;
          fail(`${file.manufacturerId}/${file.name}: ${reason(error)}`);
        }
      }
    } catch (error) {
      failed = true;
      fail(`listing the inbox: ${reason(error)}`);
    } finally {
      state.current = undefined;
    }
    if (!failed) state.lastError = undefined;
  }

  function fail(message: string): void {
    state.lastError = { at: new Date().toISOString(), message };
    log.warn('inbox poll failed', { message });
  }
}

function reason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
