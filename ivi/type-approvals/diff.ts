import { leafValues } from '../leaf-values.ts';
import type { TypeApproval } from '../../schemas/ivi/type-approval.ts';

/** One value that differs between two revisions, by leaf path (`CocDataGroup/MassGroup/MassInRunningOrder`). */
export interface FieldChange {
  path: string;
  from: unknown;
  to: unknown;
}

export interface VersionChange {
  variant: string;
  version: string;
  change: 'added' | 'removed' | 'changed';
  fields: FieldChange[];
}

export interface RevisionDiff {
  /** Approval-level fields (issue date, category, type, …) that differ. */
  approval: FieldChange[];
  versions: VersionChange[];
}

type Content = Omit<TypeApproval, 'manufacturerId'>;
const headerFields = ['number', 'baseAct', 'issueDate', 'typeApprovalType', 'vehicleCategory', 'approvalCountry', 'type'] as const;

export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const was = leafValues(before);
  const is = leafValues(after);
  const paths = [...is.keys(), ...[...was.keys()].filter((path) => !is.has(path))];
  return paths.filter((path) => JSON.stringify(was.get(path)) !== JSON.stringify(is.get(path))).map((path) => ({ path, from: was.get(path) ?? null, to: is.get(path) ?? null }));
}

const versionKey = (version: { variant: string; version: string }) => JSON.stringify([version.variant, version.version]);

/**
 * What changed from one revision to the next: approval fields, and per variant/version the
 * values added, removed or changed. Pure: the console bundles it for the diff view.
 */
export function diffRevisions(before: Content, after: Content): RevisionDiff {
  const approval = headerFields
    .filter((field) => (before[field] ?? null) !== (after[field] ?? null))
    .map((field) => ({ path: field, from: before[field] ?? null, to: after[field] ?? null }));
  const earlier = new Map(before.versions.map((version) => [versionKey(version), version]));
  const later = new Map(after.versions.map((version) => [versionKey(version), version]));
  const versions: VersionChange[] = [];
  for (const [key, version] of later) {
    const previous = earlier.get(key);
    const fields = fieldChanges(previous?.values ?? {}, version.values);
    if (!previous) versions.push({ variant: version.variant, version: version.version, change: 'added', fields });
    else if (fields.length > 0) versions.push({ variant: version.variant, version: version.version, change: 'changed', fields });
  }
  for (const [key, version] of earlier) {
    if (!later.has(key)) versions.push({ variant: version.variant, version: version.version, change: 'removed', fields: fieldChanges(version.values, {}) });
  }
  return { approval, versions };
}
