import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { WorkflowShape } from './bare-definitions.ts';

/** The marker the SDK records for each local activity. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * Counts what a run cost the engine from its history: scheduled activities, local activities,
 * accepted Updates, and the same for every child it started (`childHistory` fetches those).
 */
export async function shapeOf(history: History, childHistory: (workflowId: string) => Promise<History>): Promise<WorkflowShape> {
  const shape: WorkflowShape = { activities: 0, localActivities: 0, updates: 0, children: [] };
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes) shape.activities += 1;
    if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) shape.localActivities += 1;
    if (event.workflowExecutionUpdateAcceptedEventAttributes) shape.updates += 1;
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (child) shape.children.push(await shapeOf(await childHistory(child), childHistory));
  }
  return shape;
}

/** The shape of a finished workflow on the server, children included. */
export async function shapeOfWorkflow(client: Client, workflowId: string): Promise<WorkflowShape> {
  const fetch = (id: string) => client.workflow.getHandle(id).fetchHistory();
  return shapeOf(await fetch(workflowId), fetch);
}

/** Totals over the workflow and its children. */
export function totals(shape: WorkflowShape): { activities: number; localActivities: number; updates: number; workflows: number } {
  return shape.children.map(totals).reduce(
    (sum, child) => ({
      activities: sum.activities + child.activities,
      localActivities: sum.localActivities + child.localActivities,
      updates: sum.updates + child.updates,
      workflows: sum.workflows + child.workflows,
    }),
    { activities: shape.activities, localActivities: shape.localActivities, updates: shape.updates, workflows: 1 },
  );
}

export function describeShape(shape: WorkflowShape): string {
  const sum = totals(shape);
  return `${sum.activities} activities, ${sum.localActivities} local activities, ${sum.updates} Updates, ${sum.workflows} workflow(s) (the certificate: ${shape.activities} activities, ${shape.updates} Updates)`;
}
