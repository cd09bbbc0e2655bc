import { z } from 'zod';
import { duration, optionalUrl } from './types.ts';

/** Review deadlines and notifications for the certificate lifecycle. */
export const lifecycleConfigSchema = z.object({
  ECOC_REVIEW_ESCALATE_AFTER: duration.prefault('48h'),
  ECOC_REVIEW_EXPIRE_AFTER: duration.prefault('7d'),
  ECOC_REVIEW_ESCALATION_OWNER: z.string().min(1).default('homologation-lead'),
  ECOC_NOTIFY_WEBHOOK_URL: optionalUrl(['http:', 'https:']),
});
