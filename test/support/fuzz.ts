import { randomInt } from 'node:crypto';

/**
 * Seeded randomness for the fuzz tests: one seed per run (ECOC_FUZZ_SEED to repeat a run, a
 * fresh one otherwise), named in every failure message so a failing CI run can be replayed
 * exactly; ECOC_FUZZ_ROWS scales the generated volume (CI runs the default).
 */

/** mulberry32: a small seeded generator of numbers in [0, 1), good enough to spread test cases and faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Fuzz {
  readonly seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** `message` with the seed that reproduces it. */
  say(message: string): string;
}

export function createFuzz(name: string): Fuzz {
  const given = process.env.ECOC_FUZZ_SEED;
  const seed = given === undefined || given === '' ? randomInt(2 ** 31) : Number(given);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`ECOC_FUZZ_SEED must be a non-negative integer, got "${given}"`);
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)]!,
    say: (message) => `${name} [ECOC_FUZZ_SEED=${seed}]: ${message}`,
  };
}

/** ECOC_FUZZ_ROWS, or `fallback` (the CI size). */
export function fuzzCount(fallback: number): number {
  const given = process.env.ECOC_FUZZ_ROWS;
  if (given === undefined || given === '') return fallback;
  const count = Number(given);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`ECOC_FUZZ_ROWS must be a positive integer, got "${given}"`);
  return count;
}

/**
 * One random structural or byte-level damage to an XML document: byte flips, truncation, an
 * element deleted or duplicated, an entity or DOCTYPE trick, a huge attribute value, an
 * unclosed or mismatched tag. Returns the bytes and what was done (for failure messages).
 */
export function mutateXml(fuzz: Fuzz, xml: string): { bytes: Buffer; mutation: string } {
  const elements = [...xml.matchAll(/<([A-Za-z][\w:.-]*)\b[^>]*?(?<!\/)>[^<]*<\/\1>/g)];
  const element = () => fuzz.pick(elements);
  const at = () => fuzz.int(xml.length);
  const kinds = ['flip', 'truncate', 'delete', 'duplicate', 'entity', 'doctype', 'attribute', 'tag', 'text'] as const;
  const kind = fuzz.pick(kinds);
  switch (kind) {
    case 'flip': {
      const bytes = Buffer.from(xml, 'utf8');
      const flips = 1 + fuzz.int(8);
      for (let i = 0; i < flips; i++) bytes[fuzz.int(bytes.length)] = fuzz.int(256);
      return { bytes, mutation: `${flips} byte(s) overwritten` };
    }
    case 'truncate': {
      const cut = at();
      return { bytes: Buffer.from(xml.slice(0, cut), 'utf8'), mutation: `truncated at ${cut}` };
    }
    case 'delete': {
      const match = element();
      return { bytes: Buffer.from(xml.slice(0, match.index) + xml.slice(match.index + match[0].length), 'utf8'), mutation: `element <${match[1]}> deleted` };
    }
    case 'duplicate': {
      const match = element();
      const copies = fuzz.chance(0.05) ? 2_000 : 1 + fuzz.int(3);
      return { bytes: Buffer.from(xml.slice(0, match.index) + match[0].repeat(copies + 1) + xml.slice(match.index + match[0].length), 'utf8'), mutation: `element <${match[1]}> repeated ${copies} times` };
    }
    case 'entity': {
      const match = element();
      const trick = fuzz.pick(['&xxe;', '&lol9;', '&#0;', '&#x1;', '&#xD800;', '&amp', '&#99999999;', '&lt;&gt;&quot;&apos;']);
      const content = match[0].replace(/>([^<]*)</, `>${trick}<`);
      return { bytes: Buffer.from(xml.slice(0, match.index) + content + xml.slice(match.index + match[0].length), 'utf8'), mutation: `entity ${trick} in <${match[1]}>` };
    }
    case 'doctype': {
      const doctype = fuzz.pick([
        '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd">',
      ]);
      const root = xml.search(/<[A-Za-z]/);
      return { bytes: Buffer.from(xml.slice(0, root) + doctype + xml.slice(root), 'utf8'), mutation: 'DOCTYPE inserted' };
    }
    case 'attribute': {
      const match = element();
      const size = fuzz.chance(0.1) ? 2_000_000 : 10_000;
      const tag = `<${match[1]}`;
      return { bytes: Buffer.from(xml.slice(0, match.index) + `${tag} huge="${'x'.repeat(size)}"` + xml.slice(match.index + tag.length), 'utf8'), mutation: `attribute of ${size} characters on <${match[1]}>` };
    }
    case 'tag': {
      const match = element();
      const broken = fuzz.pick([match[0].replace(/<\/[^>]+>$/, ''), match[0].replace(/<\/([^>]+)>$/, '</$1x>'), `<${match[0]}`]);
      return { bytes: Buffer.from(xml.slice(0, match.index) + broken + xml.slice(match.index + match[0].length), 'utf8'), mutation: `tag of <${match[1]}> broken` };
    }
    case 'text': {
      const match = element();
      const value = fuzz.pick(['', ' ', '-1', 'NaN', '1e309', 'x'.repeat(100_000), '\u202Etrue', '\uFEFF', 'true', '<![CDATA[<x/>]]>']);
      const content = match[0].replace(/>([^<]*)</, `>${value}<`);
      return { bytes: Buffer.from(xml.slice(0, match.index) + content + xml.slice(match.index + match[0].length), 'utf8'), mutation: `text of <${match[1]}> replaced by ${JSON.stringify(value.slice(0, 20))}` };
    }
  }
}
