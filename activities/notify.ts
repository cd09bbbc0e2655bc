import { ApplicationFailure } from '@temporalio/activity';
import { writeAuditEntries } from '../audit/workflow-entries.ts';
import type { AuditEntry } from '../workflows/certificate/audit.ts';
import type { ActivityDependencies } from './dependencies.ts';

export interface EscalationNotice {
  certificateId: string;
  vin: string;
  owner: string;
  previousOwner?: string | undefined;
  /** When the review expires if nobody decides. */
  deadline?: string | undefined;
  audit: AuditEntry[];
}

export function createNotifyActivities({ db, config, logger }: Pick<ActivityDependencies, 'db' | 'config' | 'logger'>) {
  return {
    /** Tells the escalation owner by webhook (POST JSON); without a webhook it is only logged. */
    async notifyReviewEscalation(notice: EscalationNotice): Promise<{ delivered: boolean }> {
      await writeAuditEntries(db, notice.audit);
      const url = config.ECOC_NOTIFY_WEBHOOK_URL;
      const body = { event: 'review_escalated', certificateId: notice.certificateId, vin: notice.vin, owner: notice.owner, previousOwner: notice.previousOwner ?? null, expiresAt: notice.deadline ?? null };
      if (!url) {
        logger.warn(body, 'review escalated; no ECOC_NOTIFY_WEBHOOK_URL configured, so nobody was notified');
        return { delivered: false };
      }
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${notice.certificateId}:escalation:${notice.deadline ?? ''}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        throw ApplicationFailure.nonRetryable(`webhook ${url} refused the notification with HTTP ${response.status}`, 'WebhookRefused');
      }
      if (!response.ok) throw new Error(`webhook ${url} answered HTTP ${response.status}`);
      return { delivered: true };
    },
  };
}
