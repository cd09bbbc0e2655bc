import type { z } from 'zod';
import type { ConsoleSettings } from '../../schemas/api/console.ts';
import type { whoAmISchema } from '../../schemas/api/keys.ts';
import { may, type Permission } from '../../auth/permissions.ts';
import { ApiError, credential, getJson } from './api.ts';

export type WhoAmI = z.infer<typeof whoAmISchema>;

export interface Session {
  me: WhoAmI;
  settings: ConsoleSettings;
}

let current: Session | undefined;

/** Checks a credential against the API (GET /api/v1/me) and keeps it for this tab. */
export async function signIn(token: string): Promise<Session> {
  const me = await getJson<WhoAmI>('/api/v1/me', token);
  credential.set(token);
  current = { me, settings: await getJson<ConsoleSettings>('/api/v1/console/settings') };
  return current;
}

/** The session of this tab, resumed from sessionStorage after a reload. */
export async function resume(): Promise<Session | undefined> {
  if (current) return current;
  const token = credential.get();
  if (!token) return undefined;
  try {
    return await signIn(token);
  } catch (error) {
    // A refused credential is dropped; an unreachable server keeps it for the next try.
    if (error instanceof ApiError && error.status === 401) {
      credential.clear();
      return undefined;
    }
    throw error;
  }
}

export function signOut(): void {
  credential.clear();
  current = undefined;
}

/** Whether the caller's roles allow the permission: the same table the API and the workflow check (auth/permissions.ts). */
export function can(session: Session, permission: Permission): boolean {
  return may(session.me.roles, permission);
}

export function workflowUrl(session: Session, workflowId: string): string {
  const { url, namespace } = session.settings.temporalUi;
  return `${url}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
