export { certificateWorkflow } from './certificate/workflow.ts';
