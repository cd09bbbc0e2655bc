import type { RequestHandler } from 'express';
import { sendProblem } from '../problem.ts';

/** Answers 503 when a handler has not answered in time (streams mark themselves exempt). */
export function requestTimeout(ms: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent || res.locals.streaming) return;
      req.log.warn({ ms }, 'request timed out');
      sendProblem(res, { status: 503, code: 'request_timeout', title: `The request did not complete within ${ms} ms` });
    }, ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    res.on('finish', clear);
    res.on('close', clear);
    next();
  };
}
