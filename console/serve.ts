import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Router, type Response } from 'express';
import type { Logger } from '../platform/logger.ts';
import { buildConsole, readConsoleBundle, type ConsoleAsset, type ConsoleBundle } from './build.ts';

/**
 * The console's own policy, replacing the API's `default-src 'none'` on its pages: scripts,
 * styles and API calls from this origin only, no inline code, no framing, no form posts (forms are
 * handled by script). Links out (Temporal UI) are plain navigations.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** One build per process: the sources do not change while it runs (tests create many apps). */
let built: Promise<ConsoleBundle> | undefined;

/** Where `npm run build` writes the console (platform/build.ts). */
export const PREBUILT_CONSOLE_DIR = fileURLToPath(new URL('../dist/console/', import.meta.url));

/**
 * In production (NODE_ENV=production, as the image sets it) the console `npm run build` wrote;
 * elsewhere, and when there is none, built from the sources now, so development never serves a stale dist/.
 */
function loadConsole(): Promise<ConsoleBundle> {
  return process.env.NODE_ENV === 'production' && existsSync(PREBUILT_CONSOLE_DIR) ? readConsoleBundle(PREBUILT_CONSOLE_DIR) : buildConsole();
}

function send(res: Response, file: ConsoleAsset, cacheControl: string): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', file.etag);
  res.type(file.contentType).send(file.body);
}

/**
 * `/` and `/console/*`: the page revalidates on every load (`no-cache` + ETag), the hashed assets
 * are cached for good. The bundle is built when the first router is created.
 */
export function consoleRouter(logger: Logger): Router {
  if (!built) {
    built = loadConsole();
    built.then(
      (result) => logger.debug({ assets: [...result.assets.keys()], bytes: [...result.assets.values()].reduce((sum, file) => sum + file.body.length, 0) }, 'console built'),
      (error: unknown) => logger.error({ err: error }, 'the web console could not be built; /console/ answers 500'),
    );
  }
  const bundle = built;
  const router = Router();
  router.get('/', (_req, res) => res.redirect(302, '/console/'));
  // Express matches `/console` and `/console/` alike; relative URLs need the slash.
  router.get('/console/', async (req, res, next) => {
    if (!req.path.endsWith('/')) return res.redirect(301, '/console/');
    try {
      send(res, (await bundle).index, 'no-cache');
    } catch (error) {
      next(error);
    }
  });
  router.get('/console/assets/:name', async (req, res, next) => {
    try {
      const file = (await bundle).assets.get(req.params.name);
      if (!file) return next();
      send(res, file, IMMUTABLE);
    } catch (error) {
      next(error);
    }
  });
  return router;
}
