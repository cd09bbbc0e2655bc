import { z } from 'zod';
import { text } from '../text.ts';
import { DEFAULT_TEXT_MAX } from '../text-rule.ts';

/**
 * zod counterparts of the XSD facets the IVI schema uses. The generated model calls these with
 * the facet values of each simple type, so JSON is rejected for the same reasons the XSD would.
 */

const XS_DATE = /^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;
const XS_DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

function isCalendarDate(text: string): boolean {
  const match = /^(-?\d{4,})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days;
}

export function xsDate() {
  return z
    .string()
    .regex(XS_DATE, 'must be an xs:date (YYYY-MM-DD, optional time zone)')
    .refine(isCalendarDate, 'is not a calendar date');
}

export function xsDateTime() {
  return z
    .string()
    .regex(XS_DATE_TIME, 'must be an xs:dateTime (YYYY-MM-DDThh:mm:ss, optional fraction and time zone)')
    .refine(isCalendarDate, 'is not a calendar date');
}

export interface StringFacets {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

/**
 * An IVI text: the one text rule (schemas/text.ts) with the type's own maxLength, or the default
 * maximum where the XSD gives none, plus its minLength and pattern.
 */
export function xsString(facets: StringFacets) {
  let schema = text({ max: facets.maxLength ?? DEFAULT_TEXT_MAX, ...(facets.minLength !== undefined ? { min: facets.minLength } : {}) });
  // XSD patterns are implicitly anchored.
  if (facets.pattern !== undefined) schema = schema.regex(new RegExp(`^(?:${facets.pattern})$`), `must match ${facets.pattern}`);
  return schema;
}

export interface NumberFacets {
  minInclusive?: number;
  maxInclusive?: number;
  totalDigits?: number;
  fractionDigits?: number;
}

export function xsInteger(facets: NumberFacets) {
  let schema = z.number().int();
  if (facets.minInclusive !== undefined) schema = schema.min(facets.minInclusive);
  if (facets.maxInclusive !== undefined) schema = schema.max(facets.maxInclusive);
  return schema;
}

/** Canonical decimal text of a number (never exponent notation), as the writer emits it. */
export function decimalText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/\.?0+$/, '');
}

export function countDigits(value: number): { total: number; fraction: number } {
  const [whole = '', fraction = ''] = decimalText(Math.abs(value)).split('.');
  const wholeDigits = whole.replace(/^0+/, '');
  return { total: wholeDigits.length + fraction.length, fraction: fraction.length };
}

export function xsDecimal(facets: NumberFacets) {
  let schema = z.number();
  if (facets.minInclusive !== undefined) schema = schema.min(facets.minInclusive);
  if (facets.maxInclusive !== undefined) schema = schema.max(facets.maxInclusive);
  return schema.refine(
    (value) => {
      const digits = countDigits(value);
      return (
        (facets.fractionDigits === undefined || digits.fraction <= facets.fractionDigits) &&
        (facets.totalDigits === undefined || digits.total <= facets.totalDigits)
      );
    },
    `must have at most ${facets.totalDigits ?? '∞'} digits, ${facets.fractionDigits ?? '∞'} after the decimal point`,
  );
}
