import type { XlsxLimits } from '../../../platform/xlsx.ts';
import type { TypeApprovalFileFormat, TypeApprovalFileProblem } from '../../../schemas/ivi/type-approval-file.ts';
import type { TypeApprovalDraft } from '../../../schemas/ivi/type-approval.ts';
import { csvDraftCells, csvFromTable } from './csv.ts';
import { jsonFromDraft, readJsonDraft } from './json.ts';
import { draftTable, readDraftCells, type DraftReadResult } from './table.ts';
import { xlsxDraftCells, xlsxFromTable } from './xlsx.ts';

export type { TypeApprovalFileFormat, TypeApprovalFileProblem };
export type TypeApprovalFileResult = DraftReadResult;

/**
 * One type-approval draft from an XLSX, CSV or JSON file (layout: README.md in this folder).
 * All or nothing: with any problem there is no draft. Warnings (e.g. a type-approval
 * number outside the Annex IV format) come with the draft.
 */
export async function readTypeApprovalFile(
  bytes: Uint8Array,
  format: TypeApprovalFileFormat,
  context: { manufacturerId: string },
  options: { xlsxLimits?: XlsxLimits } = {},
): Promise<TypeApprovalFileResult> {
  if (format === 'json') return readJsonDraft(bytes, context);
  const cells = format === 'xlsx' ? await xlsxDraftCells(bytes, options.xlsxLimits) : csvDraftCells(bytes);
  return 'problems' in cells ? { problems: cells.problems, warnings: [] } : readDraftCells(cells, context);
}

/** The draft as a file that `readTypeApprovalFile` reads back to an equal draft. */
export async function writeTypeApprovalFile(draft: TypeApprovalDraft, format: TypeApprovalFileFormat): Promise<Uint8Array> {
  if (format === 'json') return jsonFromDraft(draft);
  const table = draftTable(draft);
  return format === 'xlsx' ? xlsxFromTable(table) : csvFromTable(table);
}
