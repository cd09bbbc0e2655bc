export { certificateWorkflow } from './certificate/workflow.ts';
export { inboxWorkflow } from './inbox/workflow.ts';
export { releaseAcknowledgementWorkflow, releaseWorkflow, scheduledReleaseWorkflow } from './release/index.ts';
export { auditWitnessWorkflow } from './audit/workflow.ts';
export { typeApprovalImpactWorkflow } from './type-approval-impact/workflow.ts';
