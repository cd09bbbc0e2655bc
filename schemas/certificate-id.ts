import { z } from 'zod';

/**
 * A certificate's identity: the vehicle (VIN) and the manufacturer stage. The stage range and the
 * certificate id pattern are defined here once, so every stage a record may carry gives an id
 * the API accepts, and no id names a stage a record could not have.
 */

/** ISO 3779 VIN: 17 characters, digits and capitals without I, O and Q. */
const VIN_PATTERN = '[A-HJ-NPR-Z0-9]{17}';

export const vinSchema = z.string().regex(new RegExp(`^${VIN_PATTERN}$`), 'VIN must be 17 characters A-Z/0-9 without I, O or Q (ISO 3779)');

/** Manufacturer stages: 1 is the base vehicle, then each completion stage. */
export const STAGE_MIN = 1;
export const STAGE_MAX = 999;

export const stageSchema = z.number().int().min(STAGE_MIN, `stage must be ${STAGE_MIN} to ${STAGE_MAX}`).max(STAGE_MAX, `stage must be ${STAGE_MIN} to ${STAGE_MAX}`);

/** A certificate id is its workflow id: `ecoc-<VIN>-s<stage>`. */
export function certificateIdOf(vin: string, stage: number): string {
  return `ecoc-${vin}-s${stage}`;
}

/** Stage digits as `certificateIdOf` writes them (no leading zero), at most as many as STAGE_MAX has. */
const CERTIFICATE_ID = new RegExp(`^ecoc-(${VIN_PATTERN})-s([1-9]\\d{0,${String(STAGE_MAX).length - 1}})$`);

/** The pattern bounds the length, so the text rule holds for every id it accepts. */
export const certificateIdSchema = z
  .string()
  .regex(CERTIFICATE_ID, 'expected a certificate id such as ecoc-WVWZZZ1JZXW000001-s1')
  .refine((id) => {
    const stage = CERTIFICATE_ID.exec(id)?.[2];
    return stage === undefined || stageSchema.safeParse(Number(stage)).success;
  }, `the stage in a certificate id must be ${STAGE_MIN} to ${STAGE_MAX}`);
