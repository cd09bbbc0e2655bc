import { Prisma } from '../../.generated/prisma/client.ts';

/**
 * Prisma's codes for "the database is not there right now": can't reach the server (P1001),
 * timed out (P1002, P1008), connection closed (P1017), no connection from the pool in time
 * (P2024), too many connections (P2037).
 */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/** node-postgres socket errors (raw `pg` clients, and Prisma's adapter when it passes them through). */
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that is going away or not yet accepting: class 08 (connection exception),
 * 57P01..57P03 (shutdown, crash shutdown, cannot connect now).
 */
const isUnavailableSqlState = (code: string) => code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code);

/**
 * Whether an error means PostgreSQL is unreachable or restarting (retry later), as opposed to a
 * bug or a refused statement. Decided by error type and code along the cause chain, never by
 * message text.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof Prisma.PrismaClientInitializationError) return true;
    if (current instanceof Prisma.PrismaClientKnownRequestError) {
      if (UNAVAILABLE_PRISMA_CODES.has(current.code)) return true;
      const original = (current.meta as { driverAdapterError?: { cause?: { originalCode?: unknown } } } | undefined)?.driverAdapterError?.cause?.originalCode;
      if (typeof original === 'string' && isUnavailableSqlState(original)) return true;
    }
    const code = (current as { code?: unknown; originalCode?: unknown }).code ?? (current as { originalCode?: unknown }).originalCode;
    if (typeof code === 'string' && (UNAVAILABLE_SOCKET_CODES.has(code) || isUnavailableSqlState(code))) return true;
  }
  return false;
}
