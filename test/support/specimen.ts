import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readIvi } from '../../ivi/reader.ts';
import type { CocDataGroup } from '../../schemas/ivi/index.ts';
import type { VehicleRecord } from '../../schemas/vehicle-record.ts';

/**
 * A destination id of this test file. Release workflow and schedule ids derive from the
 * destination (one release per destination at a time), and test files running side by side share
 * one Temporal server: a literal id would let one file's release refuse another's.
 */
export function testDestination(name: string): string {
  return `${name}-${process.pid.toString(36)}`;
}

/** The NAP destination of the test harnesses. */
export const NAP_DESTINATION = testDestination('nap-be');
const SPECIMEN = new URL('../fixtures/ivi2/M1-01_electric.xml', import.meta.url);
let specimen: CocDataGroup | undefined;

/** A complete, valid vehicle record built from an official specimen, with a VIN of our choosing. */
export function specimenRecord(vin: string, overrides: Partial<VehicleRecord> = {}): VehicleRecord {
  specimen ??= readIvi(readFileSync(SPECIMEN)).cocDataGroup;
  return {
    manufacturerId: 'acme',
    vin,
    stage: 1,
    typeApprovalNumber: specimen.TypeApprovalNumber,
    variant: specimen.Variant,
    version: specimen.Version,
    destination: NAP_DESTINATION,
    values: { ...structuredClone(specimen), VehicleIdentificationNumber: vin },
    ...overrides,
  } as VehicleRecord;
}

const VIN_ALPHABET = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';

/** A fresh random valid VIN (17 characters, no I/O/Q); collisions are negligible at test sizes. */
export function nextVin(): string {
  let vin = 'WVW';
  while (vin.length < 17) vin += VIN_ALPHABET[randomInt(VIN_ALPHABET.length)];
  return vin;
}
