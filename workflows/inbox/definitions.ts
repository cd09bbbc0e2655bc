import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { InboxFileProgress, InboxState } from './types.ts';

/** One poller per task queue (tests run several stacks against one Temporal namespace). */
export function inboxWorkflowId(taskQueue: string): string {
  return `ecoc-inbox-${taskQueue}`;
}

export const inboxStateQuery = defineQuery<InboxState>('inboxState');

/** Asks for a poll now; returns a ticket that `pollRequestsAnswered` reaches once a poll started after it has finished. */
export const requestPollUpdate = defineUpdate<{ ticket: number }, []>('requestPoll');

/** Sent by the processing activity (throttled): rows done in the current file. */
export const inboxProgressSignal = defineSignal<[InboxFileProgress]>('inboxProgress');
