import type { ErpMapping } from '../../schemas/erp/mapping.ts';
import type { ErpCellError } from '../../schemas/erp/report.ts';
import { ErpFileError } from './errors.ts';
import type { SourceRow } from './rows.ts';

/**
 * JSON rows, streamed. Two layouts: `json` = one top-level array of objects (split element by
 * element without parsing the whole file; `row` is the element's 1-based position) and
 * `ndjson` = one object per line (`row` is the line). Nested objects become dotted column
 * names (`{"mass": {"max": 1}}` -> `mass.max`). A bad element is a row error; the rest goes on.
 */
export async function* jsonRows(text: AsyncIterable<string>, mapping: ErpMapping, layout: 'json' | 'ndjson'): AsyncGenerator<SourceRow> {
  yield* layout === 'ndjson' ? ndjsonRows(text, mapping) : arrayRows(text, mapping);
}

async function* ndjsonRows(text: AsyncIterable<string>, mapping: ErpMapping): AsyncGenerator<SourceRow> {
  let pending = '';
  let line = 0;
  let overflow = false;
  const emit = (content: string): SourceRow | undefined => {
    line++;
    if (overflow) {
      overflow = false;
      return { row: line, errors: [{ column: '*', value: '', rule: 'row_too_large', message: `line exceeds the limit of ${mapping.limits.maxRowBytes} bytes` }] };
    }
    return content.trim() === '' ? undefined : toRow(line, content);
  };
  for await (const chunk of text) {
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
      const row = emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      if (row) yield row;
    }
    if (pending.length > mapping.limits.maxRowBytes) {
      overflow = true;
      pending = '';
    }
  }
  const last = emit(pending);
  if (last) yield last;
}

async function* arrayRows(text: AsyncIterable<string>, mapping: ErpMapping): AsyncGenerator<SourceRow> {
  let state: 'before' | 'between' | 'element' | 'after' = 'before';
  let element = '';
  let oversized = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let index = 0;
  const finish = (): SourceRow | undefined => {
    const content = element;
    const tooLarge = oversized;
    element = '';
    oversized = false;
    if (content.trim() === '' && !tooLarge) return undefined;
    index++;
    if (tooLarge) return { row: index, errors: [{ column: '*', value: '', rule: 'row_too_large', message: `element exceeds the limit of ${mapping.limits.maxRowBytes} bytes` }] };
    return toRow(index, content);
  };
  for await (const chunk of text) {
    for (const char of chunk) {
      if (state === 'after') {
        if (!/\s/.test(char)) throw new ErpFileError(`unexpected content after the closing "]" (after element ${index})`, 'malformed_json', index);
        continue;
      }
      if (state === 'before') {
        if (char === '\uFEFF' || /\s/.test(char)) continue;
        if (char !== '[') throw new ErpFileError('expected a JSON array of objects ("[" first); use .ndjson for one object per line', 'malformed_json');
        state = 'between';
        continue;
      }
      if (!inString && depth === 0 && (char === ',' || char === ']')) {
        const row = finish();
        if (row) yield row;
        if (char === ']') state = 'after';
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') depth--;
      if (depth < 0) throw new ErpFileError(`unbalanced "${char}" in element ${index + 1}`, 'malformed_json', index + 1);
      state = 'element';
      if (oversized) continue;
      element += char;
      if (element.length > mapping.limits.maxRowBytes) {
        oversized = true;
        element = '';
      }
    }
  }
  if (state !== 'after') throw new ErpFileError(`the JSON array is not closed (file ends inside element ${index + 1})`, 'malformed_json', index + 1);
}

function toRow(row: number, content: string): SourceRow {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    return { row, errors: [{ column: '*', value: content.trim().slice(0, 200), rule: 'malformed_json', message: (error as Error).message }] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { row, errors: [{ column: '*', value: content.trim().slice(0, 200), rule: 'not_an_object', message: 'each row must be a JSON object' }] };
  }
  const cells: Record<string, string> = {};
  const errors: ErpCellError[] = [];
  flatten(value as Record<string, unknown>, '', cells, errors);
  return errors.length > 0 ? { row, errors } : { row, cells };
}

function flatten(object: Record<string, unknown>, prefix: string, cells: Record<string, string>, errors: ErpCellError[]): void {
  for (const [key, value] of Object.entries(object)) {
    const name = prefix + key;
    if (value === null || value === undefined) continue;
    if (typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, `${name}.`, cells, errors);
    // JSON.parse has already rounded such a number (a VIN or part number written without quotes): refuse it rather than read another value.
    else if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      errors.push({ column: name, value: String(value), rule: 'number_precision', message: `${name} is a number too large to read exactly (more than 15 digits); write it as a string` });
    } else cells[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
}
