// Signing throughput: raw signatures and whole IVI documents through a real SoftHSM2 token, and the
// full signing step (sign + verify + XSD) on the calling thread next to the signing pool's threads,
// for the token and for the software key, in the same run (medians of alternating rounds).
// Run: npx tsx bench/signing.ts [--documents 400] [--bits 2048] [--rounds 3]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openPkcs11Signer } from '../connectors/hsm/pkcs11.ts';
import type { KeySigner } from '../connectors/hsm/signer.ts';
import { ensureSoftwareKey, openSoftwareSigner } from '../connectors/hsm/software.ts';
import { createSigningPool, type SigningPool } from '../signing/pool.ts';
import { signAndCheck } from '../signing/sign-and-check.ts';
import { signIvi } from '../signing/sign-ivi.ts';
import { createSoftHsmToken } from '../test/support/softhsm.ts';

export interface SigningBenchOptions {
  /** Operations per measurement. */
  documents?: number;
  bits?: 2048 | 3072;
  sessionCounts?: number[];
  /** Alternating inline/pool rounds of the full signing step; the median of each is reported. */
  rounds?: number;
}

export interface SigningBenchRow {
  /** `pkcs11 ×N sessions` or `software RSA-3072`. */
  signer: string;
  /** Raw RSA-SHA256 signatures per second (KeySigner → C_Sign, no XML); token rows only. */
  rawSignaturesPerSecond?: number;
  /** Signed IVI documents per second (canonicalise, digest, C_Sign, serialise) on the calling thread; token rows only. */
  documentsPerSecond?: number;
  /** The signing activity's step (sign, verify against the certificate, validate the XSD) with the XML work on the calling thread. */
  checkedInlinePerSecond: number;
  /** The same step with the XML work on the signing pool. */
  checkedPoolPerSecond: number;
  /** Main-thread (event loop) busy time per document, ms: what the step leaves of the thread that does the worker's I/O. */
  mainThreadMsInline: number;
  mainThreadMsPool: number;
}

export interface SigningBenchResult {
  bits: number;
  documentBytes: number;
  threads: number;
  rounds: number;
  rows: SigningBenchRow[];
}

const SPECIMEN = new URL('../test/fixtures/ivi2/M1-01_electric.xml', import.meta.url);

export async function runSigningBench(options: SigningBenchOptions = {}): Promise<SigningBenchResult> {
  const count = options.documents ?? 400;
  const bits = options.bits ?? 2048;
  const rounds = options.rounds ?? 3;
  const unsigned = readFileSync(SPECIMEN, 'utf8').replace(/\s*<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*?<\/Signature>/, '');
  const token = await createSoftHsmToken({ label: 'bench' });
  const keyDir = mkdtempSync(join(tmpdir(), 'ecoc-bench-signing-'));
  const pool = createSigningPool();
  // Twice the threads in flight keeps every pool thread busy while the main thread signs and assembles.
  const inFlight = pool.threads * 2;
  try {
    await token.createKey({ label: 'bench-seal', id: 'b1', bits });
    const rows: SigningBenchRow[] = [];
    for (const sessions of options.sessionCounts ?? [1, 4]) {
      const signer = await openPkcs11Signer({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, keyLabel: 'bench-seal', sessions, retryTimeoutMs: 10_000 });
      try {
        // Twice the sessions in flight keeps every session busy while the main thread does XML work.
        const concurrency = Math.max(sessions * 2, inFlight);
        const data = Buffer.alloc(700, 'a'); // about the size of a canonical SignedInfo
        await rate(sessions, concurrency, () => signer.signRsaSha256(data)); // warm-up: open sessions
        rows.push({
          signer: `pkcs11 ×${sessions} session${sessions === 1 ? '' : 's'}`,
          rawSignaturesPerSecond: await rate(count, concurrency, () => signer.signRsaSha256(data)),
          documentsPerSecond: await rate(count, concurrency, () => signIvi(unsigned, signer)),
          ...(await inlineVersusPool(signer, unsigned, pool, { count, concurrency, rounds })),
        });
      } finally {
        await signer.close();
      }
    }
    const software = await openSoftwareSigner(await ensureSoftwareKey(keyDir));
    try {
      rows.push({ signer: 'software RSA-3072', ...(await inlineVersusPool(software, unsigned, pool, { count, concurrency: inFlight, rounds })) });
    } finally {
      await software.close();
    }
    return { bits, documentBytes: Buffer.byteLength(unsigned), threads: pool.threads, rounds, rows };
  } finally {
    await pool.close();
    token.destroy();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

/** The full signing step with the XML work inline, then on the pool, alternating so both see the same load. */
async function inlineVersusPool(
  signer: KeySigner,
  unsigned: string,
  pool: SigningPool,
  { count, concurrency, rounds }: { count: number; concurrency: number; rounds: number },
): Promise<Pick<SigningBenchRow, 'checkedInlinePerSecond' | 'checkedPoolPerSecond' | 'mainThreadMsInline' | 'mainThreadMsPool'>> {
  // Warm-up: every pool thread compiles the XSD once; the calling thread too.
  await rate(concurrency, concurrency, () => signAndCheck(unsigned, signer, { work: pool }));
  await signAndCheck(unsigned, signer);
  const inline: Measurement[] = [];
  const pooled: Measurement[] = [];
  for (let round = 0; round < rounds; round += 1) {
    inline.push(await measure(count, concurrency, () => signAndCheck(unsigned, signer)));
    pooled.push(await measure(count, concurrency, () => signAndCheck(unsigned, signer, { work: pool })));
  }
  return {
    checkedInlinePerSecond: median(inline.map((m) => m.perSecond)),
    checkedPoolPerSecond: median(pooled.map((m) => m.perSecond)),
    mainThreadMsInline: median(inline.map((m) => m.mainThreadMs)),
    mainThreadMsPool: median(pooled.map((m) => m.mainThreadMs)),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Measurement {
  perSecond: number;
  /** Event-loop busy time per operation, ms. */
  mainThreadMs: number;
}

async function measure(count: number, concurrency: number, operation: () => Promise<unknown>): Promise<Measurement> {
  const before = performance.eventLoopUtilization();
  const begin = process.hrtime.bigint();
  const perSecond = await rate(count, concurrency, operation);
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  const { utilization } = performance.eventLoopUtilization(before);
  return { perSecond, mainThreadMs: Math.round(((utilization * seconds * 1000) / count) * 100) / 100 };
}

/** Operations per second for `count` calls with at most `concurrency` in flight. */
async function rate(count: number, concurrency: number, operation: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const begin = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (started < count) {
        started += 1;
        await operation();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  return Math.round(count / seconds);
}

function print(result: SigningBenchResult): void {
  console.log(`RSA-${result.bits} on SoftHSM2, IVI document ${result.documentBytes} bytes (M1-01_electric specimen); signing pool: ${result.threads} threads; medians of ${result.rounds} rounds`);
  console.table(
    result.rows.map((row) => ({
      signer: row.signer,
      'raw C_Sign /s': row.rawSignaturesPerSecond ?? '',
      'signed documents /s': row.documentsPerSecond ?? '',
      'sign + verify + XSD /s, one thread': row.checkedInlinePerSecond,
      'sign + verify + XSD /s, pool': row.checkedPoolPerSecond,
      'pool / one thread': (row.checkedPoolPerSecond / row.checkedInlinePerSecond).toFixed(2),
      'main thread ms/doc, one thread': row.mainThreadMsInline,
      'main thread ms/doc, pool': row.mainThreadMsPool,
    })),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { documents: { type: 'string' }, bits: { type: 'string' }, rounds: { type: 'string' } } });
  const bits = values.bits === '3072' ? 3072 : 2048;
  print(await runSigningBench({ documents: values.documents ? Number(values.documents) : undefined, bits, rounds: values.rounds ? Number(values.rounds) : undefined }));
}
