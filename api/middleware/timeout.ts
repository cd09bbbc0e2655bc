import type { RequestHandler, Response } from 'express';
import { sendProblem } from '../problem.ts';

interface Deadline {
  /** When the request's time runs out (epoch ms). */
  at: number;
  /** ECOC_API_REQUEST_TIMEOUT in ms. */
  ms: number;
  /** Switches the middleware's 503 off: the handler answers by itself before `at`. */
  takeOver(): void;
}

/**
 * Answers 503 when a handler has not answered in time (streams mark themselves exempt). The
 * handler may still be working then, and the 503 cannot say what it did; its own answer later is
 * not sent (the problem handler logs it). A handler whose work may outlast the timeout takes the
 * deadline over instead (`ownDeadline`): it stops starting work in time and answers once, with
 * what it did (the vehicle ingest).
 */
export function requestTimeout(ms: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent || res.locals.streaming) return;
      req.log.warn({ ms }, 'request timed out');
      sendProblem(res, { status: 503, code: 'request_timeout', title: `The request did not complete within ${ms} ms` });
    }, ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    res.locals.deadline = { at: Date.now() + ms, ms, takeOver: clear } satisfies Deadline;
    res.on('finish', clear);
    res.on('close', clear);
    next();
  };
}

/**
 * Takes the request's deadline over from the timeout middleware: no 503 will be sent for this
 * request, so the caller must answer before `at` itself. Undefined when the app has no timeout.
 */
export function ownDeadline(res: Response): { at: number; ms: number } | undefined {
  const deadline = res.locals.deadline as Deadline | undefined;
  if (!deadline) return undefined;
  deadline.takeOver();
  return { at: deadline.at, ms: deadline.ms };
}
