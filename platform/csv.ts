import { stringify, type Options } from 'csv-stringify/sync';

/**
 * The one CSV writer for files people open in spreadsheets (API exports, type-approval files).
 * A text cell starting with `=`, `+`, `-`, `@`, tab or CR (or their full-width forms) would run
 * as a formula there, so, per OWASP "CSV injection", it is written with a leading `'` and quoted.
 * A cell that already starts with `'`s before such a character gets one more `'`, so
 * `unescapeFormula` undoes exactly what was added and files written here read back unchanged.
 * Numbers are never prefixed: `-5` is data.
 */
const FORMULA_START = /^'*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

export function escapeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** A cell as written by `escapeFormula` back to the value. */
export function unescapeFormula(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

export function writeCsv(records: unknown[], options: Options = {}): string {
  return stringify(records, {
    ...options,
    escape_formulas: false,
    cast: {
      ...options.cast,
      string: (value) => {
        const escaped = escapeFormula(value);
        return escaped === value ? value : { value: escaped, quoted: true };
      },
    },
  });
}
