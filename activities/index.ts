import { createAuditActivities } from './audit.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { createDeliveryActivities } from './delivery.ts';
import { createEventActivities } from './events.ts';
import { createGenerateActivities } from './generate.ts';
import { createInboxActivities } from './inbox.ts';
import { createNotifyActivities } from './notify.ts';
import { createReleaseActivities } from './release.ts';
import { createSignActivities } from './sign.ts';
import { createTypeApprovalImpactActivities } from './type-approval-impact.ts';
import { createValidateActivities } from './validate.ts';

export type { ActivityDependencies } from './dependencies.ts';

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createAuditActivities(deps),
    ...createNotifyActivities(deps),
    ...createValidateActivities(deps),
    ...createGenerateActivities(deps),
    ...createSignActivities(deps),
    ...createDeliveryActivities(deps),
    ...createReleaseActivities(deps),
    ...createInboxActivities(deps),
    ...createEventActivities(deps),
    ...createTypeApprovalImpactActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
