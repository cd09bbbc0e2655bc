import type { Provenance } from '../ivi/compose.ts';
import { leafValues } from '../ivi/leaf-values.ts';
import type { Database } from '../platform/database/prisma.ts';
import { loadCertificateData } from './certificate-data.ts';

/** One leaf that differs between two data versions (a value added, removed or changed). */
export interface DataChange {
  /** Leaf path as in provenance and corrections: `CocDataGroup/AxleTable/AxleGroup[2]/AxleNumber`. */
  path: string;
  before: unknown;
  after: unknown;
  beforeSource: Provenance | null;
  afterSource: Provenance | null;
}

/** The composed data of two versions, compared leaf by leaf (in the later version's field order). */
export async function diffDataVersions(db: Database, certificateId: string, from: number, to: number): Promise<DataChange[]> {
  const [before, after] = await Promise.all([loadCertificateData(db, certificateId, from), loadCertificateData(db, certificateId, to)]);
  const beforeValues = leafValues(before.values);
  const afterValues = leafValues(after.values);
  const paths = [...afterValues.keys(), ...[...beforeValues.keys()].filter((path) => !afterValues.has(path))];
  const changes: DataChange[] = [];
  for (const path of paths) {
    const was = beforeValues.get(path);
    const is = afterValues.get(path);
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    changes.push({
      path,
      before: was ?? null,
      after: is ?? null,
      beforeSource: beforeValues.has(path) ? (before.provenance[path] ?? null) : null,
      afterSource: afterValues.has(path) ? (after.provenance[path] ?? null) : null,
    });
  }
  return changes;
}
