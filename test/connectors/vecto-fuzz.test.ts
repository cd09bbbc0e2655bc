import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importVecto, vectoImportSchema } from '../../connectors/vecto/import.ts';
import { VectoFormatError, VectoVersionError } from '../../connectors/vecto/read.ts';
import { createFuzz, fuzzCount, mutateXml } from '../support/fuzz.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/vecto/vehicle_sampleSingleModeDualFuel_2p4.${name}.xml`, import.meta.url), 'utf8');
const FILES = { cif: fixture('CUSTOMER'), mrf: fixture('RSLT_MANUFACTURER') };

/** A refusal says where: a line, a byte offset, or the size or prolog rule that refused the whole file. */
const WHERE = /line \d+|offset \d+|bytes exceeds the limit|DOCTYPE|encoding|UTF-8/;

/**
 * VECTO files damaged at random (ECOC_FUZZ_ROWS cases, 500 in CI): the import either reads the
 * pair (findings say what is off) or refuses it with a typed error naming the place; it never
 * throws anything else and never hangs.
 */
describe('VECTO import under mutated files', { timeout: 120_000 }, () => {
  it('reads or refuses with what and where, never crashing or hanging', () => {
    const fuzz = createFuzz('vecto-fuzz');
    const problems: string[] = [];
    const outcomes = { read: 0, refused: 0 };
    for (let i = 0; i < fuzzCount(500); i++) {
      const kind = fuzz.pick(['cif', 'mrf'] as const);
      const { bytes, mutation } = mutateXml(fuzz, FILES[kind]);
      const started = performance.now();
      try {
        vectoImportSchema.parse(importVecto({ ...FILES, [kind]: bytes }));
        outcomes.read++;
      } catch (error) {
        outcomes.refused++;
        if (!(error instanceof VectoFormatError || error instanceof VectoVersionError)) problems.push(`case ${i} (${kind}, ${mutation}): untyped ${String(error).slice(0, 200)}`);
        else if (!WHERE.test(error.message)) problems.push(`case ${i} (${kind}, ${mutation}): no place in "${error.message.slice(0, 200)}"`);
      }
      const took = performance.now() - started;
      if (took > 2_000) problems.push(`case ${i} (${kind}, ${mutation}): took ${Math.round(took)} ms`);
    }
    expect(problems, fuzz.say(`${problems.length} bad outcomes (${JSON.stringify(outcomes)})`)).toEqual([]);
    expect(outcomes.refused, fuzz.say('mutations refused')).toBeGreaterThan(0);
  });
});
