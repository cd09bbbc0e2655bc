import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';

/** RFC 9457 problem details with a stable machine-readable `code` and the offending field paths. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

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

export type ProblemInput = Pick<Problem, 'title' | 'status' | 'code'> & Partial<Omit<Problem, 'title' | 'status' | 'code'>>;

export function sendProblem(res: Response, problem: ProblemInput): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({ type: `https://ecoc-hub.dev/problems/${problem.code}`, ...problem });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, { status: 404, code: 'not_found', title: 'Not found', detail: `No route for ${req.method} ${req.path}`, instance: req.originalUrl });
};

/** Turns every thrown error into problem JSON; unexpected ones are logged and masked. */
export const problemHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  if (error instanceof HttpProblem) {
    sendProblem(res, { status: error.status, code: error.code, title: error.message, instance: req.originalUrl, ...error.extra });
    return;
  }
  if (error instanceof ZodError) {
    sendProblem(res, {
      status: 400,
      code: 'invalid_request',
      title: 'The request is invalid',
      instance: req.originalUrl,
      errors: error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message })),
    });
    return;
  }
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500;
  if (status >= 400 && status < 500) {
    // Body-parser errors (malformed JSON, oversized body, wrong charset) carry a status and a type.
    const type = (error as { type?: string }).type ?? 'bad_request';
    sendProblem(res, { status, code: type.replace(/\./g, '_'), title: (error as Error).message, instance: req.originalUrl });
    return;
  }
  req.log?.error({ err: error }, 'unhandled error');
  sendProblem(res, { status: 500, code: 'internal_error', title: 'Internal error', instance: req.originalUrl });
};
