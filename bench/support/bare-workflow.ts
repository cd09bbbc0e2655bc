// The bare engine for the lifecycle bench: a workflow that does nothing but cost what a
// certificate costs Temporal (its activities, local activities, Updates and child workflows).
import { condition, executeChild, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { bareStepUpdate, BARE_WORKFLOW_TYPE, type WorkflowShape } from './bare-definitions.ts';

interface BareActivities {
  noop(): Promise<void>;
}

const remote = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

export async function bareCertificateWorkflow(shape: WorkflowShape): Promise<void> {
  let updates = 0;
  setHandler(bareStepUpdate, () => ++updates);
  for (let i = 0; i < shape.localActivities; i++) await local.noop();
  for (let i = 0; i < shape.activities; i++) await remote.noop();
  const { workflowId } = workflowInfo();
  await Promise.all(shape.children.map((child, index) => executeChild(BARE_WORKFLOW_TYPE, { args: [child], workflowId: `${workflowId}-child-${index}` })));
  await condition(() => updates >= shape.updates);
}
