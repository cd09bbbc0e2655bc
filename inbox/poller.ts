import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Logger } from '../platform/logger.ts';
import { waitFor } from '../platform/wait.ts';
import type { Config } from '../schemas/config/index.ts';
import { inboxStateQuery, inboxWorkflowId, requestPollUpdate } from '../workflows/inbox/definitions.ts';
import type { InboxState } from '../workflows/inbox/types.ts';
import type { inboxWorkflow } from '../workflows/inbox/workflow.ts';
import { loadErpMappings } from './mappings.ts';
import { inboxSettings } from './settings.ts';

/**
 * Starts the inbox poller if an inbox is configured (once per task queue; a running one is kept).
 * The mappings file is read here too, so a broken one stops start-up instead of every poll.
 */
export async function startInboxPoller(client: Client, config: Config, logger: Logger): Promise<WorkflowHandle<typeof inboxWorkflow> | undefined> {
  const settings = inboxSettings(config);
  if (!settings) return undefined;
  const mappings = await loadErpMappings(settings.mappingsFile);
  const handle = await client.workflow.start<typeof inboxWorkflow>('inboxWorkflow', {
    workflowId: inboxWorkflowId(config.ECOC_TASK_QUEUE),
    taskQueue: config.ECOC_TASK_QUEUE,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  logger.info({ workflowId: handle.workflowId, sftp: `${settings.endpoint.host}:${settings.endpoint.port}${settings.endpoint.remoteDir}`, manufacturers: [...mappings.keys()] }, 'ERP inbox poller running');
  return handle;
}

export function inboxPoller(client: Client, taskQueue: string): WorkflowHandle<typeof inboxWorkflow> {
  return client.workflow.getHandle<typeof inboxWorkflow>(inboxWorkflowId(taskQueue));
}

/** Asks the poller for a poll now and, unless `timeoutMs` is 0, waits until a poll after the request has finished. */
export async function requestInboxPoll(client: Client, taskQueue: string, timeoutMs = 600_000): Promise<InboxState> {
  const poller = inboxPoller(client, taskQueue);
  const { ticket } = await poller.executeUpdate(requestPollUpdate);
  let state = await poller.query(inboxStateQuery);
  if (timeoutMs > 0) {
    await waitFor(
      async () => {
        state = await poller.query(inboxStateQuery);
        return state.pollRequestsAnswered >= ticket;
      },
      { timeoutMs, what: `inbox poll #${ticket}`, intervalMs: 250 },
    );
  }
  return state;
}
