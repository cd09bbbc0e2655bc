import { readFileSync } from 'node:fs';

export const SPECIMENS = ['M1-01_electric.xml', 'M1-05_hybrid_petrol.xml', 'N2-01_electric.xml', 'L1e_moped.xml'];

/** An official specimen with its illustrative (non-verifying) signature removed, otherwise byte for byte. */
export function unsignedSpecimen(name: string): string {
  const xml = readFileSync(new URL(`../fixtures/ivi2/${name}`, import.meta.url), 'utf8');
  const unsigned = xml.replace(/\s*<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*?<\/Signature>/, '');
  if (unsigned === xml) throw new Error(`${name} has no specimen signature to strip`);
  return unsigned;
}
