import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Principal } from '../auth/principal.ts';
import type { Logger } from '../platform/logger.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Correlates logs and the workflow calls a request causes (actor.requestId). */
      id: string;
      log: Logger;
      /** Set by authentication. */
      principal?: Principal;
    }
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Request id (taken from `X-Request-Id` when well-formed), a child logger, and one access log line. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    req.id = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.log = logger.child({ requestId: req.id });
    res.setHeader('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log.info(
        { method: req.method, path: req.path, route: res.locals.route, status: res.statusCode, ms: Math.round(ms * 10) / 10, subject: req.principal?.subject },
        'request',
      );
    });
    next();
  };
}
