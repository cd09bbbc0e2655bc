import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The typed custom search attributes operators filter on in the Temporal UI. The platform
 * registers exactly these (dev server flags or the operator API), so this list is the one source.
 */
export const EcocVin = defineSearchAttributeKey('EcocVin', SearchAttributeType.KEYWORD);
export const EcocStatus = defineSearchAttributeKey('EcocStatus', SearchAttributeType.KEYWORD);
export const EcocTypeApprovalNumber = defineSearchAttributeKey('EcocTypeApprovalNumber', SearchAttributeType.KEYWORD);
export const EcocManufacturer = defineSearchAttributeKey('EcocManufacturer', SearchAttributeType.KEYWORD);
export const EcocDestination = defineSearchAttributeKey('EcocDestination', SearchAttributeType.KEYWORD);
export const EcocBatchId = defineSearchAttributeKey('EcocBatchId', SearchAttributeType.KEYWORD);
export const EcocOwner = defineSearchAttributeKey('EcocOwner', SearchAttributeType.KEYWORD);
export const EcocReviewDeadline = defineSearchAttributeKey('EcocReviewDeadline', SearchAttributeType.DATETIME);
export const EcocStage = defineSearchAttributeKey('EcocStage', SearchAttributeType.INT);

export const ecocSearchAttributes = [
  EcocVin,
  EcocStatus,
  EcocTypeApprovalNumber,
  EcocManufacturer,
  EcocDestination,
  EcocBatchId,
  EcocOwner,
  EcocReviewDeadline,
  EcocStage,
] as const;
