/** Certificate states, as shown in queries, the EcocStatus search attribute and the API. */
export const certificateStatuses = [
  'received',
  'validating',
  'blocked',
  'generated',
  'in_review',
  'approved',
  'rejected',
  'signed',
  'awaiting_release',
  'delivering',
  'delivered',
  'acknowledged',
  'withdrawn',
  'failed',
] as const;

export type CertificateStatus = (typeof certificateStatuses)[number];

/** Roles known to the workflow's update validators (the API maps credentials to these). */
export const roles = ['integrator', 'homologation', 'reviewer', 'release-manager', 'ops', 'admin'] as const;
export type Role = (typeof roles)[number];
