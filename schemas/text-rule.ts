/**
 * The one rule for text that enters the system (API bodies and queries, ERP rows and cells, XML
 * values, Update arguments): what PostgreSQL can store and every consumer can read. Free of zod
 * and Node modules, so workflow validators apply the very same rule (schemas/text.ts wraps it
 * for zod schemas).
 */

/** Default maximum length (UTF-16 code units) where a field names none. */
export const DEFAULT_TEXT_MAX = 2_000;

/** Why a text is refused, or undefined when it is acceptable. */
export function textProblem(value: string, max = DEFAULT_TEXT_MAX): string | undefined {
  if (value.length > max) return `is longer than ${max} characters (${value.length})`;
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === 0) return `contains a NUL character at position ${index + 1}`;
    // Control characters other than TAB, LF and CR (and U+FFFE/U+FFFF) cannot be written to XML 1.0:
    // refused here rather than when the certificate's message is generated.
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0xfffe || code === 0xffff) {
      return `contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${index + 1}`;
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        index += 1;
        continue;
      }
      return `contains an unpaired surrogate (U+${code.toString(16).toUpperCase()}) at position ${index + 1}`;
    }
    if (code >= 0xdc00 && code <= 0xdfff) return `contains an unpaired surrogate (U+${code.toString(16).toUpperCase()}) at position ${index + 1}`;
  }
  return undefined;
}
