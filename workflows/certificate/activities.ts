import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';

/**
 * The certificate workflow's activities, one proxy per timeout profile, each typed with only
 * the activities that profile may call.
 */

/**
 * Database steps: quick, retried for about twenty minutes. `validateCertificate` and
 * `generateMessage` only serve runs recorded before they became one step (`validateAndGenerate`).
 */
export const steps = proxyActivities<Pick<Activities, 'recordAudit' | 'validateAndGenerate' | 'validateCertificate' | 'generateMessage' | 'notifyReviewEscalation'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/** The HSM: a busy or restarting token is waited for longer. */
export const hsm = proxyActivities<Pick<Activities, 'signMessage'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 30 },
});

/**
 * Destinations: slow calls with heartbeats, retried through outages. `deliverMessage` only
 * serves runs whose history already chose the single-message path (before "release now" became
 * a batch of one).
 */
export const destination = proxyActivities<Pick<Activities, 'deliverMessage' | 'withdrawAtDestination'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 50 },
});
