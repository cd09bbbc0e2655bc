import type { Config } from '../schemas/config/index.ts';
import type { ReviewPolicy } from '../schemas/certificate.ts';

/** The review timing every ingest path gives a new certificate workflow. */
export function reviewPolicy(config: Config): ReviewPolicy {
  return {
    escalateAfterMs: config.ECOC_REVIEW_ESCALATE_AFTER,
    expireAfterMs: config.ECOC_REVIEW_EXPIRE_AFTER,
    escalationOwner: config.ECOC_REVIEW_ESCALATION_OWNER,
  };
}
