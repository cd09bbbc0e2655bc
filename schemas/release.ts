import { z } from 'zod';
import { destinationId } from './config/destinations.ts';
import { isTimeZone } from './config/release.ts';
import { duration } from './config/types.ts';
import { id, text } from './text.ts';

/** Per-run sizes; omitted ones come from `ECOC_RELEASE_*` at the time the run starts. */
export const releaseOverridesSchema = z.object({
  batchSize: z.int().positive().max(1_000_000).optional(),
  chunkSize: z.int().positive().max(5_000).optional(),
  concurrency: z.int().positive().max(64).optional(),
});

export const destinationRefSchema = z.object({ destination: destinationId });

export const startReleaseRunSchema = destinationRefSchema.extend(releaseOverridesSchema.shape);

const note = text({ trim: true, min: 1, max: 500 });
const timeZone = id().refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Brussels or UTC' });

/** Five cron fields (minute hour day-of-month month day-of-week), interpreted in `timezone`. */
const cron = text({ trim: true, max: 200 }).refine((text) => text.split(/\s+/).length === 5, { message: 'expected five cron fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"' });

/**
 * A release schedule: either a calendar (`cron`, in `timezone`) or a fixed interval (`every`,
 * optionally shifted by `offset`), e.g. nightly at 02:00 Europe/Brussels for an SFTP partner or
 * every 15 minutes for a NAP.
 */
export const createReleaseScheduleSchema = destinationRefSchema
  .extend({
    cron: cron.optional(),
    every: duration.optional(),
    offset: duration.optional(),
    timezone: timeZone.optional(),
    note: note.optional(),
    paused: z.boolean().default(false),
  })
  .extend(releaseOverridesSchema.shape)
  .superRefine((value, context) => {
    if ((value.cron === undefined) === (value.every === undefined)) {
      context.addIssue({ code: 'custom', path: ['cron'], message: 'give exactly one of cron (calendar) or every (interval)' });
    }
    if (value.offset !== undefined && value.every === undefined) context.addIssue({ code: 'custom', path: ['offset'], message: 'offset only applies to an interval (every)' });
    if (value.every !== undefined && value.every < 1_000) context.addIssue({ code: 'custom', path: ['every'], message: 'an interval must be at least 1s' });
  });

export const scheduleNoteSchema = destinationRefSchema.extend({ note: note.optional() });

export const backfillReleaseScheduleSchema = destinationRefSchema
  .extend({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
  .refine((value) => new Date(value.start) < new Date(value.end), { path: ['end'], message: 'end must be after start' });

export const listReleaseSchedulesSchema = z.object({ destination: destinationId.optional() });

export type ReleaseOverridesInput = z.input<typeof releaseOverridesSchema>;
export type DestinationRef = z.input<typeof destinationRefSchema>;
export type StartReleaseRunInput = z.input<typeof startReleaseRunSchema>;
export type CreateReleaseScheduleInput = z.input<typeof createReleaseScheduleSchema>;
export type ScheduleNoteInput = z.input<typeof scheduleNoteSchema>;
export type BackfillReleaseScheduleInput = z.input<typeof backfillReleaseScheduleSchema>;
export type ListReleaseSchedulesInput = z.input<typeof listReleaseSchedulesSchema>;
