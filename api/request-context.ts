import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { recordAudit } from '../audit/chain.ts';
import { actorOf, credentialLabel, type Principal } from '../auth/principal.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { Actor } from '../schemas/certificate.ts';

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

/** The authenticated caller as the actor of workflow Updates and services (with the request id). */
export function requestActor(req: Request): Actor {
  return actorOf(req.principal!, req.id);
}

/** An API action in the audit chain: who, with which credential, in which request. */
export async function auditApiAction(
  db: Database,
  req: Request,
  action: string,
  certificateId: string | null,
  detail: Record<string, unknown>,
): Promise<void> {
  const principal = req.principal!;
  await recordAudit(db, [
    {
      entryKey: null,
      occurredAt: new Date(),
      actor: principal.subject,
      action: `api:${action}`,
      certificateId,
      detail: { credential: credentialLabel(principal), requestId: req.id, ...detail },
    },
  ]);
}
