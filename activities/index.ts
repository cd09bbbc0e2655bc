import { createAuditActivities } from './audit.ts';
import type { ActivityDependencies } from './dependencies.ts';
import { createNotifyActivities } from './notify.ts';

export type { ActivityDependencies } from './dependencies.ts';

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createAuditActivities(deps),
    ...createNotifyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
