import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { isRefusalKind, RefusedError, type RefusalKind } from '../auth/permissions.ts';
import { isDatabaseUnavailable } from '../platform/database/unavailable.ts';
import { isTemporalUnavailable } from '../platform/temporal/unavailable.ts';
import type { Problem } from '../schemas/api/problem.ts';

export type { Problem };

/** An error that becomes exactly this problem answer. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Partial<Problem> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpProblem(404, 'not_found', `${what} was not found`);
export const forbidden = (message: string) => new HttpProblem(403, 'forbidden', message);

/**
 * How each refusal kind (auth/permissions.ts) is answered. The one table for workflow Update
 * validators (ApplicationFailure type), services (RefusedError) and the route table's role check.
 */
export const refusalAnswers = {
  forbidden: { status: 403, code: 'forbidden_role' },
  four_eyes: { status: 403, code: 'four_eyes' },
  not_allowed_in_state: { status: 409, code: 'not_allowed_in_state' },
  stale_version: { status: 409, code: 'stale_version' },
  invalid: { status: 400, code: 'invalid_request' },
  not_found: { status: 404, code: 'not_found' },
} as const satisfies Record<RefusalKind, { status: number; code: string }>;

/** A refusal as a problem answer; `kind` is kept for the audit trail. */
export class RefusalProblem extends HttpProblem {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(refusalAnswers[kind].status, refusalAnswers[kind].code, message);
  }
}

/**
 * The refusal an error carries, by type, never by message text: a workflow Update whose validator
 * threw an ApplicationFailure typed with a refusal kind, or a service's RefusedError.
 */
export function refusalOf(error: unknown): { kind: RefusalKind; message: string } | undefined {
  if (error instanceof RefusedError) return { kind: error.kind, message: error.message };
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && isRefusalKind(cause.type)) return { kind: cause.type, message: cause.message };
  }
  return undefined;
}

/**
 * The one mapping of refusals to HTTP problems (the message stays the title); with a certificate
 * id, a certificate without workflow is 404 like a missing certificate. Anything else is returned
 * as it is.
 */
export function refusalProblem(error: unknown, certificateId?: string): unknown {
  if (error instanceof HttpProblem) return error;
  if (certificateId !== undefined && error instanceof WorkflowNotFoundError) return notFound(`Certificate ${certificateId}`);
  const refusal = refusalOf(error);
  return refusal ? new RefusalProblem(refusal.kind, refusal.message) : error;
}

export type ProblemInput = Pick<Problem, 'title' | 'status' | 'code'> & Partial<Omit<Problem, 'title' | 'status' | 'code'>>;

export function sendProblem(res: Response, problem: ProblemInput): void {
  const requestId = res.req.id;
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({ type: `https://ecoc-hub.dev/problems/${problem.code}`, instance: res.req.originalUrl, ...(requestId ? { requestId } : {}), ...problem });
}

/**
 * Field paths as clients write them: `records.3.vin`, `(root)` for the whole body. The title
 * names the first problem and where it is (`reason: contains a NUL character at position 4`).
 */
export function zodProblem(error: ZodError, where: 'body' | 'query' | 'params'): HttpProblem {
  const errors = error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new HttpProblem(400, 'invalid_request', `The request ${where} is invalid${first ? `: ${first.path}: ${first.message}${more}` : ''}`, { errors });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, { status: 404, code: 'not_found', title: 'Not found', detail: `No route for ${req.method} ${req.path}` });
};

/** body-parser's error types, as stable codes. */
const bodyErrors: Record<string, { code: string; title: string }> = {
  'entity.parse.failed': { code: 'malformed_json', title: 'The body is not valid JSON' },
  'entity.too.large': { code: 'payload_too_large', title: 'The body is larger than allowed' },
  'encoding.unsupported': { code: 'unsupported_encoding', title: 'The body encoding is not supported' },
  'charset.unsupported': { code: 'unsupported_charset', title: 'The body charset is not supported' },
  // Our own check (api/routes-table.ts): JSON bodies are UTF-8 only.
  'encoding.not_utf8': { code: 'invalid_encoding', title: 'The body must be valid UTF-8' },
  'request.aborted': { code: 'request_aborted', title: 'The request was aborted' },
  'request.size.invalid': { code: 'invalid_content_length', title: 'The body does not match its Content-Length' },
};

/**
 * Dependencies that can be down or restarting: answered 503 with Retry-After (about one reconnect
 * attempt of the pool, or of the gRPC channel), never 500.
 */
export const outages = {
  database_unavailable: { title: 'The database is not available; retry later', retryAfterSeconds: 5 },
  temporal_unavailable: { title: 'The workflow engine (Temporal) is not available; retry later', retryAfterSeconds: 5 },
} as const;
export type OutageCode = keyof typeof outages;

export const isOutageCode = (code: string): code is OutageCode => Object.hasOwn(outages, code);

/** The 503 for an outage, with its Retry-After (`extra`: a batch's per-record results). */
export function outageProblem(res: Response, code: OutageCode, message: string, extra?: Partial<Problem>): HttpProblem {
  res.setHeader('Retry-After', String(outages[code].retryAfterSeconds));
  return new HttpProblem(503, code, message, extra);
}

/** The outage an error means, or `undefined` for any other error. */
export function outageOf(error: unknown): OutageCode | undefined {
  if (isDatabaseUnavailable(error)) return 'database_unavailable';
  if (isTemporalUnavailable(error)) return 'temporal_unavailable';
  return undefined;
}

/** Turns every thrown error into problem JSON; unexpected ones are logged and masked. */
export const problemHandler: ErrorRequestHandler = (thrown: unknown, req, res, _next) => {
  const error = refusalProblem(thrown);
  if (res.headersSent) {
    // Already answered (a timeout, or a stream that failed midway): log only.
    req.log?.warn({ err: error }, 'error after the response started');
    if (!res.writableEnded) res.destroy();
    return;
  }
  if (error instanceof HttpProblem) {
    sendProblem(res, { status: error.status, code: error.code, title: error.message, ...error.extra });
    return;
  }
  if (error instanceof ZodError) {
    const problem = zodProblem(error, 'body');
    sendProblem(res, { status: 400, code: problem.code, title: problem.message, ...problem.extra });
    return;
  }
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500;
  if (status >= 400 && status < 500) {
    const type = (error as { type?: string }).type ?? '';
    const known = bodyErrors[type] ?? { code: 'bad_request', title: 'The request could not be read' };
    sendProblem(res, { status, ...known, detail: (error as Error).message });
    return;
  }
  const outage = outageOf(error);
  if (outage) {
    // An outage, not a bug: clients (and load balancers) come back, and nothing is restarted.
    req.log?.warn({ err: error }, outage);
    const { title, retryAfterSeconds } = outages[outage];
    res.setHeader('Retry-After', String(retryAfterSeconds));
    sendProblem(res, { status: 503, code: outage, title, detail: `Retry after ${retryAfterSeconds} s` });
    return;
  }
  req.log?.error({ err: error }, 'unhandled error');
  sendProblem(res, { status: 500, code: 'internal_error', title: 'Internal error' });
};
