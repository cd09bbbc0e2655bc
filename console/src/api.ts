import type { Problem } from '../../schemas/api/problem.ts';

const TOKEN_KEY = 'ecoc.console.token';

/** The credential lives in sessionStorage: gone when the tab closes, never in a cookie the browser would send on its own. */
export const credential = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** A refusal or error from the API, carrying its problem JSON as sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
  ) {
    super(problem.title ?? `HTTP ${status}`);
  }

  /** One line for people: what the API said, with field errors when there are any. */
  describe(): string {
    const fields = (this.problem.errors ?? []).map((error) => `${error.path}: ${error.message}`).join('; ');
    return [this.message, this.problem.detail, fields].filter(Boolean).join(' — ');
  }
}

/** Called when the API says the credential is no longer good (revoked, expired). */
let onUnauthenticated: (error: ApiError) => void = () => undefined;
export function whenUnauthenticated(handler: (error: ApiError) => void): void {
  onUnauthenticated = handler;
}

async function call(method: string, path: string, body?: unknown, token = credential.get()): Promise<Response> {
  const response = await fetch(path, {
    method,
    headers: {
      accept: 'application/json, application/problem+json, application/xml',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    cache: 'no-store',
  });
  if (response.ok) return response;
  const type = response.headers.get('content-type') ?? '';
  const problem = (type.includes('json') ? await response.json().catch(() => ({})) : { title: `${response.status} ${response.statusText}` }) as Partial<Problem>;
  const error = new ApiError(response.status, problem);
  if (response.status === 401 && token === credential.get()) onUnauthenticated(error);
  throw error;
}

export async function getJson<T>(path: string, token?: string): Promise<T> {
  return (await call('GET', path, undefined, token ?? credential.get())).json() as Promise<T>;
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  return (await call('POST', path, body)).json() as Promise<T>;
}

/** Downloads through fetch (the bearer token cannot ride on a plain link), then saves the bytes under the server's file name. */
export async function download(path: string): Promise<string> {
  const response = await call('GET', path);
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'download.xml';
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

export function query(parameters: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
