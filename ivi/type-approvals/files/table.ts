import type { z } from 'zod';
import { contentRules } from '../../rules/index.ts';
import { fieldPath } from '../../paths.ts';
import { leafValues } from '../../leaf-values.ts';
import { isoDateOfCell, type SheetValue } from '../../../platform/xlsx.ts';
import { iviFieldSchema, parseIviFieldPath, type IviPathSegment } from '../../../schemas/ivi/field-paths.ts';
import { iviDescriptor, type IviValueKind } from '../../../schemas/ivi/index.ts';
import type { TypeApprovalFileProblem } from '../../../schemas/ivi/type-approval-file.ts';
import { typeApprovalDraftSchema, type TypeApprovalDraft } from '../../../schemas/ivi/type-approval.ts';

/**
 * The format-neutral part of type-approval files: approval fields by key, and the Versions
 * table (Variant, Version, one column per IVI leaf path) in both directions. XLSX and CSV only
 * turn their bytes into these cells and back; every rule about content lives here.
 */

/** The approval's and its revision's fields as files name them (keys of the Approval sheet, leading CSV columns). */
export const APPROVAL_FIELDS = [
  { key: 'Number', path: ['number'] },
  { key: 'BaseAct', path: ['baseAct'] },
  { key: 'IssueDate', path: ['issueDate'], date: true },
  { key: 'TypeApprovalType', path: ['typeApprovalType'] },
  { key: 'VehicleCategory', path: ['vehicleCategory'] },
  { key: 'ApprovalCountry', path: ['approvalCountry'] },
  { key: 'Type', path: ['type'] },
  { key: 'ExtensionNumber', path: ['revision', 'extensionNumber'] },
  { key: 'EffectiveDate', path: ['revision', 'effectiveDate'], date: true },
  { key: 'Reason', path: ['revision', 'reason'] },
] as const satisfies readonly { key: string; path: readonly string[]; date?: boolean }[];

export const VARIANT = 'Variant';
export const VERSION = 'Version';

/** A non-blank cell and where it is. `column` is the letter, `header` the column's header or key. */
export interface FileCell {
  value: SheetValue;
  row: number;
  column: string;
  header: string;
}

export interface DraftCells {
  /** Sheet names for messages (XLSX); CSV has none. */
  approvalSheet?: string;
  versionsSheet?: string;
  /** Approval field cells by key as written; unknown keys are problems. */
  approval: FileCell[];
  /** The Versions table's header row: its number and one cell per column. */
  header: { row: number; cells: { column: string; name: string }[] };
  /** Data rows (blank rows already left out), cells keyed by column letter. */
  rows: { row: number; cells: Map<string, FileCell> }[];
}

export interface DraftReadResult {
  draft?: TypeApprovalDraft;
  problems: TypeApprovalFileProblem[];
  warnings: TypeApprovalFileProblem[];
}

const ROOT = 'CocDataGroup';

interface LeafColumn {
  column: string;
  name: string;
  field: string;
  segments: IviPathSegment[];
  kind: IviValueKind;
}

type Json = Record<string | number, unknown>;

/** The header `AxleTable.AxleGroup[1].TyreSize` as an IVI field path (schemas/ivi/field-paths.ts), or why it is none. */
function leafColumn(column: string, name: string): LeafColumn | { problem: string } {
  const path = name.replaceAll('.', '/');
  const parsed = parseIviFieldPath(path);
  if ('problem' in parsed) return { problem: `${name} is not an IVI field: ${parsed.problem}` };
  const simple = iviDescriptor.simpleTypes[parsed.element.type];
  if (!simple) return { problem: `${name} is a group, not a single value; name one of its fields` };
  // Resolving the schema also refuses a repeated group named without its row ([1], [2], …).
  const resolved = iviFieldSchema(path);
  if ('problem' in resolved) return { problem: `${name}: ${resolved.problem}; repeated groups need a row number, e.g. AxleGroup[1]` };
  return { column, name, field: fieldPath(parsed.segments, ROOT), segments: parsed.segments, kind: simple.kind };
}

/** A cell as the JSON value its IVI kind wants; the IVI schema then checks facets. */
function leafValue(value: SheetValue, kind: IviValueKind): { value: string | number } | { problem: string } {
  if (typeof value === 'boolean') return { problem: `${String(value).toUpperCase()} is a logical value; write the IVI value (e.g. Y or N)` };
  switch (kind) {
    case 'integer':
    case 'decimal':
      if (typeof value === 'number') return { value };
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return { value: Number(value.trim()) };
      return { problem: `${describe(value)} is not a number` };
    case 'date': {
      if (typeof value === 'string') return { value: value.trim() };
      const iso = isoDateOfCell(value);
      return iso === undefined ? { problem: `${describe(value)} is not a date without time of day` } : { value: iso };
    }
    case 'dateTime':
      if (typeof value === 'string') return { value: value.trim() };
      return { problem: `${describe(value)}: write date-times as text with their offset, e.g. 2024-02-01T13:35:10+02:00` };
    case 'string':
      if (typeof value === 'string') return { value: value.trim() };
      if (typeof value === 'number') return { value: String(value) };
      return { problem: `${describe(value)} is a date cell; this field is text` };
  }
}

/** A cell for an approval field: text, or for dates also a date cell or serial number. */
function approvalValue(cell: FileCell, date: boolean): { value: string } | { problem: string } {
  const { value } = cell;
  if (typeof value === 'string') return { value: value.trim() };
  if (date && (value instanceof Date || typeof value === 'number')) {
    const iso = isoDateOfCell(value);
    return iso === undefined ? { problem: `${describe(value)} is not a date without time of day` } : { value: iso };
  }
  if (typeof value === 'number') return { value: String(value) };
  return { problem: `${describe(value)} is not text` };
}

function describe(value: SheetValue): string {
  return value instanceof Date ? value.toISOString() : JSON.stringify(value);
}

function setAt(root: Json, segments: readonly IviPathSegment[], value: unknown): void {
  let node = root;
  segments.forEach((segment, index) => {
    if (index === segments.length - 1) node[segment] = value;
    else node = (node[segment] ??= typeof segments[index + 1] === 'number' ? [] : {}) as Json;
  });
}

/**
 * The draft the cells describe, or every problem found. Cell problems come first, then what the
 * draft schema says about the assembled whole (missing fields, facets, gaps in table rows),
 * one problem per cell. Warnings do not withhold the draft.
 */
export function readDraftCells(cells: DraftCells, context: { manufacturerId: string }): DraftReadResult {
  const problems: TypeApprovalFileProblem[] = [];
  const at = (sheet: string | undefined, cell: { row: number; column: string; header: string } | undefined) => ({
    ...(sheet ? { sheet } : {}),
    ...(cell ? { row: cell.row, column: cell.column, header: cell.header } : {}),
  });

  const draft: Json = { manufacturerId: context.manufacturerId };
  const approvalCells = new Map<string, FileCell>();
  for (const cell of cells.approval) {
    const field = APPROVAL_FIELDS.find((candidate) => candidate.key === cell.header);
    if (!field) {
      problems.push({ ...at(cells.approvalSheet, cell), message: `unknown approval field ${cell.header}; expected one of ${APPROVAL_FIELDS.map((f) => f.key).join(', ')}` });
      continue;
    }
    if (approvalCells.has(field.key)) {
      problems.push({ ...at(cells.approvalSheet, cell), field: field.path.join('.'), message: `${field.key} is given twice (first in row ${approvalCells.get(field.key)!.row})` });
      continue;
    }
    approvalCells.set(field.key, cell);
    const converted = approvalValue(cell, 'date' in field);
    if ('problem' in converted) problems.push({ ...at(cells.approvalSheet, cell), field: field.path.join('.'), message: `${field.key}: ${converted.problem}` });
    else setAt(draft, field.path, converted.value);
  }

  const headerCell = (column: string, name: string) => ({ row: cells.header.row, column, header: name });
  const columns = new Map<string, LeafColumn>();
  const fields = new Map<string, string>();
  const named = (name: string) => cells.header.cells.find((cell) => cell.name === name)?.column;
  const [variantColumn, versionColumn] = [named(VARIANT), named(VERSION)];
  for (const name of [VARIANT, VERSION]) {
    if (!named(name)) problems.push({ ...at(cells.versionsSheet, undefined), row: cells.header.row, message: `the header row has no ${name} column` });
  }
  for (const { column, name } of cells.header.cells) {
    if (name === VARIANT || name === VERSION) {
      if (named(name) !== column) problems.push({ ...at(cells.versionsSheet, headerCell(column, name)), message: `${name} is a column twice` });
      continue;
    }
    const leaf = leafColumn(column, name);
    if ('problem' in leaf) {
      problems.push({ ...at(cells.versionsSheet, headerCell(column, name)), field: name, message: leaf.problem });
      continue;
    }
    const earlier = fields.get(leaf.field);
    if (earlier) {
      problems.push({ ...at(cells.versionsSheet, headerCell(column, name)), field: leaf.field, message: `${leaf.field} is already column ${earlier}` });
      continue;
    }
    fields.set(leaf.field, column);
    columns.set(column, leaf);
  }

  const versions: Json[] = [];
  const versionRows: (typeof cells.rows)[number][] = [];
  for (const row of cells.rows) {
    const values: Json = {};
    const identity: Partial<Record<'variant' | 'version', string>> = {};
    for (const [name, column, key] of [[VARIANT, variantColumn, 'variant'], [VERSION, versionColumn, 'version']] as const) {
      const cell = column === undefined ? undefined : row.cells.get(column);
      if (!cell) {
        if (column !== undefined) problems.push({ ...at(cells.versionsSheet, undefined), row: row.row, column, header: name, message: `${name} is empty` });
        continue;
      }
      if (typeof cell.value === 'string' || typeof cell.value === 'number') identity[key] = String(cell.value).trim();
      else problems.push({ ...at(cells.versionsSheet, cell), message: `${name}: ${describe(cell.value)} is not text` });
    }
    for (const cell of row.cells.values()) {
      if (cell.column === variantColumn || cell.column === versionColumn) continue;
      const leaf = columns.get(cell.column);
      if (!leaf) {
        // A value under a refused header is covered by that header's problem; one without a header is not.
        if (!cells.header.cells.some((header) => header.column === cell.column)) {
          problems.push({ ...at(cells.versionsSheet, cell), message: 'a value in a column without header' });
        }
        continue;
      }
      const converted = leafValue(cell.value, leaf.kind);
      if ('problem' in converted) problems.push({ ...at(cells.versionsSheet, cell), field: leaf.field, message: converted.problem });
      else setAt(values, leaf.segments, converted.value);
    }
    versions.push({ ...identity, values });
    versionRows.push(row);
  }
  for (const { index, first } of repeatedVersions(versions)) {
    const { variant, version } = versions[index]!;
    problems.push({ ...at(cells.versionsSheet, versionRows[index]!.cells.get(versionColumn!)), message: `variant ${String(variant)} version ${String(version)} is already in row ${versionRows[first]!.row}` });
  }
  draft.versions = versions;

  const parsed = typeApprovalDraftSchema.safeParse(draft);
  if (!parsed.success) {
    // One problem per cell: a value may break several facets at once, and a cell that could not
    // be converted is missing from the draft, which the schema reports again.
    const cellKey = (problem: TypeApprovalFileProblem) => JSON.stringify([problem.sheet, problem.row, problem.column]);
    const reported = new Set(problems.filter((problem) => problem.column !== undefined).map(cellKey));
    const byCell = new Map<string, TypeApprovalFileProblem>();
    for (const issue of parsed.error.issues) {
      const problem = issueProblem(issue, cells, approvalCells, versionRows, [...columns.values()], at);
      const key = problem.column === undefined ? JSON.stringify([problem.sheet, problem.row, problem.field]) : cellKey(problem);
      const existing = byCell.get(key);
      if (reported.has(key)) continue;
      if (existing) existing.message += `; ${problem.message}`;
      else byCell.set(key, problem);
    }
    problems.push(...byCell.values());
  }
  const warnings = parsed.success ? numberWarnings(parsed.data, approvalCells.get('Number'), cells.approvalSheet) : [];
  return problems.length === 0 && parsed.success ? { draft: parsed.data, problems, warnings } : { problems, warnings };
}

/** Each version whose variant/version pair an earlier one already has, with that earlier one's index. */
export function repeatedVersions(versions: readonly { variant?: unknown; version?: unknown }[]): { index: number; first: number }[] {
  const firsts = new Map<string, number>();
  return versions.flatMap(({ variant, version }, index) => {
    if (variant === undefined || version === undefined) return [];
    const key = JSON.stringify([variant, version]);
    const first = firsts.get(key);
    if (first === undefined) firsts.set(key, index);
    return first === undefined ? [] : [{ index, first }];
  });
}

function issueProblem(
  issue: z.core.$ZodIssue,
  cells: DraftCells,
  approvalCells: Map<string, FileCell>,
  versionRows: DraftCells['rows'],
  columns: LeafColumn[],
  at: (sheet: string | undefined, cell: { row: number; column: string; header: string } | undefined) => Partial<TypeApprovalFileProblem>,
): TypeApprovalFileProblem {
  const [head, index, part, ...rest] = issue.path;
  if (head !== 'versions') {
    const field = APPROVAL_FIELDS.find((candidate) => candidate.path.join('.') === issue.path.join('.'));
    const cell = field && approvalCells.get(field.key);
    const name = field?.key ?? issue.path.join('.');
    const message = cell ? `${name}: ${issue.message}` : `${name} is missing or invalid: ${issue.message}`;
    return { ...at(cells.approvalSheet, cell), field: issue.path.join('.'), message };
  }
  const row = typeof index === 'number' ? versionRows[index] : undefined;
  if (part !== 'values') {
    const name = part === 'variant' ? VARIANT : part === 'version' ? VERSION : undefined;
    const cell = row && name ? [...row.cells.values()].find((candidate) => candidate.header === name) : undefined;
    const message = row ? `${name ?? String(part)}: ${issue.message}` : `Versions: ${issue.message}`;
    return { ...at(cells.versionsSheet, cell), ...(row && !cell ? { row: row.row } : {}), message };
  }
  const field = fieldPath(rest, ROOT);
  const column = columns.find((leaf) => leaf.field === field) ?? columns.find((leaf) => leaf.field.startsWith(`${field}/`) || leaf.field.startsWith(`${field}[`));
  const gap = issue.code === 'invalid_type' && typeof rest[rest.length - 1] === 'number' ? ' (a row of this table is empty while a later row has values)' : '';
  return {
    ...at(cells.versionsSheet, undefined),
    ...(row ? { row: row.row } : {}),
    ...(column ? { column: column.column, header: column.name } : {}),
    field,
    message: `${issue.message}${gap}`,
  };
}

/** IVI-TAN-001 (the Annex IV format) as a warning: national and small-series approvals use other numbers. */
export function numberWarnings(draft: TypeApprovalDraft, cell: FileCell | undefined, sheet: string | undefined): TypeApprovalFileProblem[] {
  const rule = contentRules.find((candidate) => candidate.id === 'IVI-TAN-001')!;
  const violations = rule.check({ cocDataGroup: { TypeApprovalNumber: draft.number, TypeApprovalType: draft.typeApprovalType } }, { now: new Date() });
  return violations.map((violation) => ({
    ...(sheet ? { sheet } : {}),
    ...(cell ? { row: cell.row, column: cell.column, header: cell.header } : {}),
    field: 'number',
    message: `${rule.id}: ${violation.message}`,
  }));
}

/** Names a leaf column may not have: IVI's own `Variant`, `Type`, … are written `CocDataGroup.Variant`. */
const RESERVED_HEADERS = new Set<string>([VARIANT, VERSION, ...APPROVAL_FIELDS.map((field) => field.key)]);

function leafHeader(path: string): string {
  const header = path.slice(`${ROOT}/`.length).replaceAll('/', '.');
  return RESERVED_HEADERS.has(header) ? `${ROOT}.${header}` : header;
}

/** A draft as cells: the Approval fields in key order, the Versions header and one row per version. */
export interface DraftTable {
  approval: { key: string; value: string }[];
  header: string[];
  rows: (string | number | undefined)[][];
}

/**
 * The table a draft is written as. Columns are the leaf paths in the order they first occur.
 * Empty groups and tables (`{}`, `[]`) carry no value and have no cell: they are not written.
 */
export function draftTable(draft: TypeApprovalDraft): DraftTable {
  const approval = APPROVAL_FIELDS.flatMap(({ key, path }) => {
    const value = path.reduce<unknown>((node, segment) => (node as Json | undefined)?.[segment], draft);
    return value === undefined ? [] : [{ key, value: String(value) }];
  });
  const perVersion = draft.versions.map((version) => leafValues(version.values));
  const header: string[] = [];
  const seen = new Set<string>();
  for (const leaves of perVersion) {
    for (const [path, value] of leaves) {
      if (seen.has(path) || (value !== null && typeof value === 'object')) continue;
      seen.add(path);
      header.push(path);
    }
  }
  return {
    approval,
    header: [VARIANT, VERSION, ...header.map(leafHeader)],
    rows: draft.versions.map((version, index) => [version.variant, version.version, ...header.map((path) => perVersion[index]!.get(path) as string | number | undefined)]),
  };
}
