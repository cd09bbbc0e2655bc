import { OpenAPIRegistry, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { z, ZodObject, ZodType } from 'zod';
import { forbiddenMessage, RefusedError, rolesFor, type Permission } from '../auth/permissions.ts';
import { hasPermission, type Principal } from '../auth/principal.ts';
import { problemSchema } from '../schemas/api/problem.ts';
import { utf8Problem } from '../platform/utf8.ts';
import { HttpProblem, zodProblem } from './problem.ts';

type Method = 'get' | 'post' | 'delete';

/**
 * Who may call a route: nobody needs to authenticate, any authenticated caller, or the roles
 * that have this permission (auth/permissions.ts, the one table of who may do what).
 */
export type Access = 'public' | 'authenticated' | Permission;

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

export interface RouteSpec<P extends ZodObject | undefined, Q extends ZodObject | undefined, B extends ZodType | undefined> {
  method: Method;
  /** Express syntax, e.g. `/api/v1/certificates/:certificateId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * For a body that is a union: picks the alternative the client meant, so errors name that
   * alternative's fields instead of "no alternative matched".
   */
  bodyVariant?: (raw: unknown) => ZodType;
  /** Body size limit for this route (default: ECOC_API_BODY_LIMIT). */
  bodyLimit?: string | number;
  /** Long-running streams are exempt from the request timeout. */
  streaming?: boolean;
  responses: Record<number, ResponseSpec>;
  handler: (context: RouteContext<Infer<P>, Infer<Q>, Infer<B>>) => Promise<void> | void;
}

type Infer<T> = T extends ZodType ? z.output<T> : undefined;

export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
  /** The authenticated caller (routes with access 'public' must not read it). */
  principal: Principal;
}

export interface RouteTableOptions {
  /** Authenticates the request and sets `req.principal` (or answers 401). */
  authenticate: RequestHandler;
  /** Rate limit, after authentication so the bucket is per credential. */
  rateLimit: RequestHandler;
  bodyLimit: string | number;
}

export interface RegisteredRoute {
  method: Method;
  path: string;
  openApiPath: string;
}

const problemResponses = {
  400: 'Invalid request (problem JSON with field paths)',
  401: 'Not authenticated',
  403: 'Authenticated, but the role does not allow this',
  413: 'Body too large',
  415: 'Unsupported content type',
  429: 'Rate limit exceeded',
} as const;

/**
 * Routes are declared once: the same zod schemas validate requests and produce the OpenAPI
 * document, so the two cannot drift. Each route runs authenticate → rate limit → role check →
 * content type → body parsing → validation → handler.
 */
export class RouteTable {
  readonly registry = new OpenAPIRegistry();
  readonly router = Router();
  readonly routes: RegisteredRoute[] = [];

  constructor(private readonly options: RouteTableOptions) {
    this.registry.registerComponent('securitySchemes', 'bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key (`ecoc_<keyId>_<secret>`) or, when configured, an OIDC access token (JWT) from the identity provider.',
    });
    this.registry.register('Problem', problemSchema);
  }

  add<P extends ZodObject | undefined = undefined, Q extends ZodObject | undefined = undefined, B extends ZodType | undefined = undefined>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    const openApiPath = spec.path.replace(/:(\w+)/g, '{$1}');
    this.routes.push({ method: spec.method, path: spec.path, openApiPath });
    this.registry.registerPath(this.document(spec, openApiPath));
    const chain: RequestHandler[] = [
      (_req, res, next) => {
        res.locals.route = spec.path;
        res.locals.streaming = spec.streaming === true;
        next();
      },
    ];
    if (spec.access !== 'public') {
      chain.push(this.options.authenticate, this.options.rateLimit);
      const permission = permissionOf(spec.access);
      if (permission) {
        chain.push((req, _res, next) => {
          const principal = req.principal!;
          // A role refusal like the workflow validators' (403 forbidden_role, same wording).
          if (!hasPermission(principal, permission)) next(new RefusedError('forbidden', forbiddenMessage(spec.summary, principal.subject, principal.roles, permission)));
          else next();
        });
      }
    }
    if (spec.body) chain.push(requireJson, express.json({ limit: spec.bodyLimit ?? this.options.bodyLimit, strict: false, verify: requireUtf8 }));
    chain.push(async (req, res, next) => {
      try {
        const params = parse(spec.params, req.params, 'params');
        const query = parse(spec.query, req.query, 'query');
        const body = parse(spec.body && (spec.bodyVariant?.(req.body) ?? spec.body), spec.body ? req.body : undefined, 'body');
        await spec.handler({ req, res, params, query, body, principal: req.principal! } as RouteContext<Infer<P>, Infer<Q>, Infer<B>>);
      } catch (error) {
        next(error);
      }
    });
    this.router[spec.method](spec.path, ...chain);
  }

  private document(spec: RouteSpec<ZodObject | undefined, ZodObject | undefined, ZodType | undefined>, path: string): RouteConfig {
    const responses: Record<string, ResponseConfig> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      // Every error answer is problem JSON.
      const schema = response.schema ?? (Number(status) >= 400 ? problemSchema : undefined);
      const contentType = response.contentType ?? (Number(status) >= 400 ? 'application/problem+json' : 'application/json');
      responses[status] = { description: response.description, ...(schema ? { content: { [contentType]: { schema } } } : {}) };
    }
    const permission = permissionOf(spec.access);
    const problems: number[] = spec.access === 'public' ? [] : [401, 429, ...(permission ? [403] : [])];
    if (spec.body) problems.push(413, 415);
    if (spec.body || spec.query || spec.params) problems.push(400);
    for (const status of problems) {
      responses[status] ??= {
        description: problemResponses[status as keyof typeof problemResponses],
        content: { 'application/problem+json': { schema: problemSchema } },
      };
    }
    // Public routes without input still answer a request they cannot read with problem JSON.
    if (!Object.keys(responses).some((status) => status.startsWith('4'))) {
      responses['4XX'] = { description: 'A request that cannot be read (problem JSON)', content: { 'application/problem+json': { schema: problemSchema } } };
    }
    return {
      method: spec.method,
      path,
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      ...(spec.access === 'public' ? { security: [] } : { security: [{ bearer: [] }] }),
      ...(permission ? { 'x-permission': permission, 'x-roles': [...rolesFor(permission)] } : {}),
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
      },
      responses,
    };
  }
}

function permissionOf(access: Access): Permission | undefined {
  return access === 'public' || access === 'authenticated' ? undefined : access;
}

function parse<T extends ZodType | undefined>(schema: T, value: unknown, where: 'body' | 'query' | 'params'): Infer<T> {
  if (!schema) return undefined as Infer<T>;
  const result = schema.safeParse(value);
  if (!result.success) throw zodProblem(result.error, where);
  return result.data as Infer<T>;
}

/**
 * JSON bodies are UTF-8 (RFC 8259), checked on the bytes before parsing: body-parser would decode
 * invalid bytes as U+FFFD, which would then be stored as if the client had sent it. Another
 * declared charset is refused the same way (400 invalid_encoding, via the problem handler).
 */
const requireUtf8 = (_req: Request, _res: Response, body: Buffer, encoding: string): void => {
  const refuse = (message: string) => Object.assign(new Error(message), { status: 400, type: 'encoding.not_utf8' });
  if (encoding.toLowerCase() !== 'utf-8') throw refuse(`The body must be UTF-8 JSON (charset ${encoding} is not accepted)`);
  const problem = utf8Problem(body);
  if (problem !== undefined) throw refuse(`The body ${problem}`);
};

/** 415 for a body that is not JSON; an empty body passes (and then fails validation if one is required). */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    next(new HttpProblem(415, 'unsupported_media_type', `Send the body as application/json (got ${req.headers['content-type'] ?? 'no Content-Type'})`));
    return;
  }
  next();
};
