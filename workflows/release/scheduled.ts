import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { EcocDestination } from '../search-attributes.ts';
import { releaseWorkflowId, type ReleaseOverrides, type ScheduledReleaseResult } from './definitions.ts';
import { releaseWorkflow } from './workflow.ts';

/**
 * What a release schedule starts. The release itself runs as a child under the destination's one
 * workflow id (`release-<destination>`), so it cannot overlap a release started by hand or by an
 * earlier tick: that start is refused and this run ends as `skipped`. The child is abandoned
 * rather than terminated if this run is, so a claimed batch always finishes and reports.
 */
export async function scheduledReleaseWorkflow(input: ReleaseOverrides & { destination: string; scheduleId: string }): Promise<ScheduledReleaseResult> {
  const { destination, scheduleId, ...overrides } = input;
  const workflowId = releaseWorkflowId(destination);
  let release;
  try {
    release = await startChild(releaseWorkflow, {
      workflowId,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ destination, requestedBy: `schedule:${scheduleId}`, ...overrides }],
      typedSearchAttributes: [{ key: EcocDestination, value: destination }],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { outcome: 'skipped', workflowId, reason: `a release for ${destination} is already running` };
    throw error;
  }
  return { outcome: 'released', workflowId, summary: await release.result() };
}
