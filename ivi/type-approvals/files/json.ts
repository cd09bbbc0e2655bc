import { fieldPath } from '../../paths.ts';
import { utf8Problem } from '../../../platform/utf8.ts';
import type { TypeApprovalFileProblem } from '../../../schemas/ivi/type-approval-file.ts';
import { typeApprovalDraftSchema, type TypeApprovalDraft } from '../../../schemas/ivi/type-approval.ts';
import { numberWarnings, repeatedVersions, type DraftReadResult } from './table.ts';

/**
 * JSON is the draft object itself (schemas/ivi/type-approval.ts), UTF-8. `manufacturerId` may be
 * left out; when given it must be the importing manufacturer. Problems name the field path
 * (`versions[2]` and, inside a version's values, the IVI field path).
 */
export function readJsonDraft(bytes: Uint8Array, context: { manufacturerId: string }): DraftReadResult {
  const encoding = utf8Problem(bytes);
  if (encoding) return { problems: [{ message: `the JSON file ${encoding}` }], warnings: [] };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return { problems: [{ message: `the JSON file cannot be read: ${(error as SyntaxError).message}` }], warnings: [] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problems: [{ message: 'the JSON file must hold one type-approval object' }], warnings: [] };
  const { manufacturerId, ...draft } = value as Record<string, unknown>;
  const problems: TypeApprovalFileProblem[] = [];
  if (manufacturerId !== undefined && manufacturerId !== context.manufacturerId) {
    problems.push({ field: 'manufacturerId', message: `the file is for manufacturer ${JSON.stringify(manufacturerId)}, not ${context.manufacturerId}` });
  }
  const parsed = typeApprovalDraftSchema.safeParse({ ...draft, manufacturerId: context.manufacturerId });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, index, part, ...rest] = issue.path;
      const inValues = head === 'versions' && typeof index === 'number' && part === 'values';
      problems.push({ field: inValues ? fieldPath(rest, 'CocDataGroup') : fieldPath(issue.path), message: `${inValues ? `versions[${index + 1}]: ` : ''}${issue.message}` });
    }
    return { problems, warnings: [] };
  }
  for (const { index, first } of repeatedVersions(parsed.data.versions)) {
    const { variant, version } = parsed.data.versions[index]!;
    problems.push({ field: `versions[${index + 1}]`, message: `variant ${variant} version ${version} is already versions[${first + 1}]` });
  }
  const warnings = numberWarnings(parsed.data, undefined, undefined);
  return problems.length === 0 ? { draft: parsed.data, problems, warnings } : { problems, warnings };
}

export function jsonFromDraft(draft: TypeApprovalDraft): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(draft, null, 2)}\n`);
}
