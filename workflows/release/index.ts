export { releaseAcknowledgementWorkflow } from './acknowledgements.ts';
export { scheduledReleaseWorkflow } from './scheduled.ts';
export { releaseWorkflow } from './workflow.ts';
