import { z } from 'zod';

/** The file formats one type-approval draft is read from and written to (ivi/type-approvals/files/). */
export const typeApprovalFileFormats = ['xlsx', 'csv', 'json'] as const;
export const typeApprovalFileFormatSchema = z.enum(typeApprovalFileFormats);

/**
 * One problem (or warning) with a type-approval file, named as precisely as the format allows:
 * the sheet (XLSX), the 1-based row, the column letter and its header, and the field (an IVI
 * field path such as `CocDataGroup/MassGroup/MassInRunningOrder`, or the draft's own field).
 */
export const typeApprovalFileProblemSchema = z.object({
  sheet: z.string().optional(),
  row: z.number().int().positive().optional(),
  /** Column letter as spreadsheets show it (`C`); CSV columns are lettered the same way. */
  column: z.string().optional(),
  /** The column's header (`MassGroup.MassInRunningOrder`) or, on the Approval sheet, the key. */
  header: z.string().optional(),
  field: z.string().optional(),
  message: z.string(),
});

export type TypeApprovalFileFormat = z.infer<typeof typeApprovalFileFormatSchema>;
export type TypeApprovalFileProblem = z.infer<typeof typeApprovalFileProblemSchema>;
