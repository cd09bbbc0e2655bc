import { categoryFamilies } from './types.ts';
import type { CategoryFamily, CertificateInput } from './types.ts';
import { fieldPath } from '../paths.ts';

/** Small helpers the rules share; rules read composed data, so every field may be missing. */

export type Json = Record<string, unknown>;

export function coc(input: CertificateInput): Json {
  return input.cocDataGroup as Json;
}

/** `CocDataGroup/...` path from JSON segments (array indexes become `[n]`, 1-based). */
export function cocPath(...segments: (string | number)[]): string {
  return fieldPath(segments, 'CocDataGroup');
}

/** Value at a `/`-separated path of nested groups (no tables on the way). */
export function valueAt(root: Json, path: string): unknown {
  let current: unknown = root;
  for (const segment of path.split('/')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Json)[segment];
  }
  return current;
}

export function numberAt(root: Json, path: string): number | undefined {
  const value = valueAt(root, path);
  return typeof value === 'number' ? value : undefined;
}

export function rows(table: unknown, group: string): Json[] {
  if (table === null || typeof table !== 'object') return [];
  const list = (table as Json)[group];
  return Array.isArray(list) ? (list.filter((row) => row !== null && typeof row === 'object') as Json[]) : [];
}

export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

export function categoryFamily(category: unknown): CategoryFamily | undefined {
  if (typeof category !== 'string') return undefined;
  const family = /^(M1|M2|M3|N1|N2|N3)/.exec(category)?.[1] ?? category.charAt(0);
  return categoryFamilies.find((candidate) => candidate === family);
}
