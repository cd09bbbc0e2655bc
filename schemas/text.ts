import { z } from 'zod';
import { DEFAULT_TEXT_MAX, textProblem } from './text-rule.ts';

/**
 * zod helpers for the one text rule (schemas/text-rule.ts): every string that enters the system
 * through an input schema (API bodies and queries, vehicle records, ERP mappings, the correction
 * body) is built here, so it is refused with a field path when it holds a NUL, an unpaired
 * surrogate or more characters than its maximum — before anything is stored or started.
 */

export { DEFAULT_TEXT_MAX, textProblem };

/** Identifiers and search filters: manufacturer, destination, owner, subject, batch, VIN filters. */
export const ID_MAX = 100;
/** Free text: reasons, comments, descriptions. */
export const FREE_TEXT_MAX = DEFAULT_TEXT_MAX;

export interface TextOptions {
  /** Most characters (UTF-16 code units) allowed; default DEFAULT_TEXT_MAX. */
  max?: number;
  /** Fewest characters (after trimming when `trim` is set). */
  min?: number;
  /** Trim surrounding whitespace first; the limits apply to the trimmed text. */
  trim?: boolean;
}

/**
 * A string under the text rule. The maximum is one check of the rule (not zod's `.max`) and is
 * documented as `maxLength` in the OpenAPI document; further checks (`.regex`, …) may be chained.
 */
export function text(options: TextOptions = {}) {
  const max = options.max ?? DEFAULT_TEXT_MAX;
  let schema = z.string();
  if (options.trim) schema = schema.trim();
  if (options.min !== undefined) schema = schema.min(options.min, options.min === 1 ? 'must not be empty' : `must be at least ${options.min} characters`);
  return schema
    .superRefine((value, context) => {
      const problem = textProblem(value, max);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, input: value, params: { rule: 'text' } });
    })
    .meta({ maxLength: max });
}

/** An identifier: 1 to ID_MAX characters under the text rule. */
export function id(options: Omit<TextOptions, 'max'> & { max?: number } = {}) {
  return text({ min: 1, max: ID_MAX, ...options });
}

/**
 * Refused text quoted back (in a report or message) in a form that is itself acceptable: NUL and
 * unpaired surrogates written as `\u0000`-style escapes, cut to `max` characters with `…`.
 */
export function printableText(value: string, max = 200): string {
  let escaped = '';
  for (let index = 0; index < value.length && escaped.length <= max; index += 1) {
    const code = value.charCodeAt(index);
    const pairs = code >= 0xd800 && code <= 0xdbff && value.charCodeAt(index + 1) >= 0xdc00 && value.charCodeAt(index + 1) <= 0xdfff;
    if (pairs) {
      escaped += value.slice(index, index + 2);
      index += 1;
    } else if (code === 0 || (code >= 0xd800 && code <= 0xdfff)) escaped += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else escaped += value[index];
  }
  if (escaped.length <= max) return escaped;
  const cut = escaped.slice(0, max - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
