import { z } from 'zod';

/** A TCP port given as an environment string. */
export const port = z.coerce.number().int().min(0).max(65535);

/** Durations in config are written like `48h`, `2d`, `30s`, `500ms`; parsed to milliseconds. */
export const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 30s, 15m, 48h or 2d')
  .transform((text) => {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(text)!;
    const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return Number(match[1]) * unit;
  });

export const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .refine((value) => value === undefined || protocols.includes(safeProtocol(value)), {
      message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    });

function safeProtocol(value: string): string {
  try {
    return new URL(value).protocol;
  } catch {
    return '';
  }
}
