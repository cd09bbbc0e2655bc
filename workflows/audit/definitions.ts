import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AuditWitnessState, WitnessedCheckpoint } from './types.ts';

/** The workflow type name clients start (not imported, so clients stay free of workflow code). */
export const AUDIT_WITNESS_WORKFLOW_TYPE = 'auditWitnessWorkflow';

/** One witness per installation, i.e. per task queue (tests run several stacks on one namespace). */
export function auditWitnessWorkflowId(taskQueue: string): string {
  return `ecoc-audit-witness-${taskQueue}`;
}

export const auditWitnessStateQuery = defineQuery<AuditWitnessState>('auditWitnessState');

/**
 * Takes a checkpoint now (`ecoc audit checkpoint`) and answers once it is witnessed: the latest
 * witnessed checkpoint (unchanged when no chain changed), or the error of that attempt.
 */
export const checkpointNowUpdate = defineUpdate<{ last: WitnessedCheckpoint | null; error?: string | undefined }, []>('checkpointNow');
