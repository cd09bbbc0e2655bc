import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { certificateStatuses } from '../schemas/certificate.ts';

/** One file of the built console, served from memory. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** Strong validator for conditional requests. */
  etag: string;
}

export interface ConsoleBundle {
  /** The page; references the hashed asset names. */
  index: ConsoleAsset;
  /** By file name (`main.3FJ2KQ.js`): content-hashed, so they can be cached for good. */
  assets: Map<string, ConsoleAsset>;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

function asset(body: Buffer, contentType: string): ConsoleAsset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * Bundles the console (plain TypeScript modules + one stylesheet) with esbuild, in memory: the
 * server builds it at start, so there is no build step to forget, no output directory to go stale
 * and nothing to write on a read-only file system. Takes well under a second.
 */
export async function buildConsole(): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: { main: here('./src/main.ts'), console: here('./src/console.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    entryNames: '[name].[hash]',
    outdir: '/console-build',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    // The certificate model's constants without zod (src/model.ts).
    define: { ECOC_CERTIFICATE_STATUSES: JSON.stringify(certificateStatuses) },
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    assets.set(name, asset(Buffer.from(file.contents), contentTypes[extname(name)] ?? 'application/octet-stream'));
  }
  const named = (prefix: string, extension: string) => {
    const name = [...assets.keys()].find((candidate) => candidate.startsWith(`${prefix}.`) && candidate.endsWith(extension));
    if (!name) throw new Error(`console build: esbuild produced no ${prefix}*${extension}`);
    return name;
  };
  const template = await readFile(here('./index.html'), 'utf8');
  const page = template.replace('{{script}}', named('main', '.js')).replace('{{stylesheet}}', named('console', '.css'));
  return { index: asset(Buffer.from(page), contentTypes['.html']!), assets };
}

/** `npm run build`: the console as files (index.html, assets/), which a production API serves instead of building. */
export async function writeConsoleBundle(bundle: ConsoleBundle, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), bundle.index.body);
  for (const [name, file] of bundle.assets) await writeFile(join(dir, 'assets', name), file.body);
}

/** The console written by writeConsoleBundle. */
export async function readConsoleBundle(dir: string): Promise<ConsoleBundle> {
  const assets = new Map<string, ConsoleAsset>();
  for (const name of await readdir(join(dir, 'assets'))) {
    assets.set(name, asset(await readFile(join(dir, 'assets', name)), contentTypes[extname(name)] ?? 'application/octet-stream'));
  }
  return { index: asset(await readFile(join(dir, 'index.html')), contentTypes['.html']!), assets };
}
