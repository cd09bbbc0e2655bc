import { defineUpdate } from '@temporalio/workflow';

/** What one certificate costs the engine, counted from its history (and its children's). */
export interface WorkflowShape {
  activities: number;
  localActivities: number;
  updates: number;
  children: WorkflowShape[];
}

/** The bare workflow's only handler: each call stands for one Update a certificate receives. */
export const bareStepUpdate = defineUpdate<number>('bareStep');

export const BARE_WORKFLOW_TYPE = 'bareCertificateWorkflow';
