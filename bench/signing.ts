// Signing throughput through a real SoftHSM2 token: raw signatures next to whole IVI documents.
// Run: npx tsx bench/signing.ts [--documents 400] [--bits 2048]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openPkcs11Signer } from '../connectors/hsm/pkcs11.ts';
import { validateIviXml } from '../ivi/xsd.ts';
import { signAndCheck } from '../signing/sign-and-check.ts';
import { signIvi } from '../signing/sign-ivi.ts';
import { createSoftHsmToken } from '../test/support/softhsm.ts';

export interface SigningBenchOptions {
  /** Operations per measurement. */
  documents?: number;
  bits?: 2048 | 3072;
  sessionCounts?: number[];
}

export interface SigningBenchRow {
  sessions: number;
  /** Raw RSA-SHA256 signatures per second (KeySigner → C_Sign, no XML). */
  rawSignaturesPerSecond: number;
  /** Signed IVI documents per second (canonicalise, digest, C_Sign, serialise). */
  documentsPerSecond: number;
  /** Documents per second through the activity path: sign, verify against the certificate, validate the XSD. */
  checkedDocumentsPerSecond: number;
}

export interface SigningBenchResult {
  bits: number;
  documentBytes: number;
  rows: SigningBenchRow[];
}

const SPECIMEN = new URL('../test/fixtures/ivi2/M1-01_electric.xml', import.meta.url);

export async function runSigningBench(options: SigningBenchOptions = {}): Promise<SigningBenchResult> {
  const count = options.documents ?? 400;
  const bits = options.bits ?? 2048;
  const unsigned = readFileSync(SPECIMEN, 'utf8').replace(/\s*<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*?<\/Signature>/, '');
  const token = await createSoftHsmToken({ label: 'bench' });
  try {
    await token.createKey({ label: 'bench-seal', id: 'b1', bits });
    const rows: SigningBenchRow[] = [];
    for (const sessions of options.sessionCounts ?? [1, 4]) {
      const signer = await openPkcs11Signer({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, keyLabel: 'bench-seal', sessions, retryTimeoutMs: 10_000 });
      try {
        // Twice the sessions in flight keeps every session busy while the main thread does XML work.
        const concurrency = sessions * 2;
        const data = Buffer.alloc(700, 'a'); // about the size of a canonical SignedInfo
        await rate(sessions, concurrency, () => signer.signRsaSha256(data)); // warm-up: open sessions
        rows.push({
          sessions,
          rawSignaturesPerSecond: await rate(count, concurrency, () => signer.signRsaSha256(data)),
          documentsPerSecond: await rate(count, concurrency, () => signIvi(unsigned, signer)),
          checkedDocumentsPerSecond: await rate(count, concurrency, () => signAndCheck(unsigned, signer, { validateXsd: validateIviXml })),
        });
      } finally {
        await signer.close();
      }
    }
    return { bits, documentBytes: Buffer.byteLength(unsigned), rows };
  } finally {
    token.destroy();
  }
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
  console.log(`SoftHSM2, RSA-${result.bits}, IVI document ${result.documentBytes} bytes (M1-01_electric specimen)`);
  console.table(
    result.rows.map((row) => ({
      sessions: row.sessions,
      'raw C_Sign /s': row.rawSignaturesPerSecond,
      'signed documents /s': row.documentsPerSecond,
      'signed + verified + XSD /s': row.checkedDocumentsPerSecond,
    })),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { documents: { type: 'string' }, bits: { type: 'string' } } });
  const bits = values.bits === '3072' ? 3072 : 2048;
  print(await runSigningBench({ documents: values.documents ? Number(values.documents) : undefined, bits }));
}
