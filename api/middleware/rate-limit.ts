import type { Request, RequestHandler } from 'express';
import { rateLimitKey } from '../../auth/principal.ts';
import { HttpProblem } from '../problem.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets in memory, one per key: a steady rate with bursts. Per API process; behind several
 * API replicas each enforces its own share. Idle buckets are dropped so the map stays small.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = Date.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token; returns the seconds to wait when there is none. */
  take(key: string, now = Date.now()): number {
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.perSecond;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const full = (this.burst / this.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedAt > full) this.buckets.delete(key);
  }
}

/**
 * Per API key or per OIDC person (issuer and subject) once authenticated, per client address
 * otherwise (failed logins included). The client address is the socket's peer unless
 * ECOC_TRUST_PROXY names the proxies whose `X-Forwarded-For` may say otherwise.
 */
export function rateLimit(buckets: TokenBuckets, keyOf: (req: Request) => string = rateKey): RequestHandler {
  return (req, res, next) => {
    const wait = buckets.take(keyOf(req));
    if (wait > 0) {
      res.setHeader('Retry-After', String(Math.ceil(wait)));
      next(new HttpProblem(429, 'rate_limited', `Too many requests; retry after ${Math.ceil(wait)} s`));
      return;
    }
    next();
  };
}

export function rateKey(req: Request): string {
  return req.principal ? rateLimitKey(req.principal) : `ip:${req.ip}`;
}
