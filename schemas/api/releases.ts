import { text } from '../text.ts';
import { z } from './openapi-zod.ts';

const timestamp = z.string().openapi({ format: 'date-time' });

/** A release run's progress (workflows/release/definitions.ts ReleaseProgress). */
export const releaseProgressSchema = z
  .object({
    batchId: z.string(),
    destination: z.string(),
    requestedBy: z.string().optional(),
    phase: z.enum(['planning', 'delivering', 'completed', 'cancelled']),
    expected: z.number().int(),
    selected: z.number().int(),
    claimed: z.number().int(),
    skipped: z.number().int(),
    delivered: z.number().int(),
    failed: z.number().int(),
    failedPermanently: z.number().int(),
    remaining: z.number().int(),
    packages: z.number().int(),
    generation: z.number().int(),
    startedAt: timestamp,
    finishedAt: timestamp.optional(),
    acknowledgementWorkflowId: z.string().optional(),
  })
  .openapi('ReleaseProgress');

const scheduleRunSchema = z.object({
  scheduledAt: timestamp,
  startedAt: timestamp,
  workflowId: z.string(),
  runId: z.string(),
  status: z.string(),
  result: z
    .union([
      z.object({ outcome: z.literal('released'), workflowId: z.string(), summary: releaseProgressSchema }),
      z.object({ outcome: z.literal('skipped'), workflowId: z.string(), reason: z.string() }),
    ])
    .optional(),
});

const scheduleFields = {
  scheduleId: z.string(),
  destination: z.string(),
  cron: z.string().optional(),
  everyMs: z.number().optional(),
  offsetMs: z.number().optional(),
  paused: z.boolean(),
  note: z.string().optional(),
  nextRuns: z.array(timestamp),
};

export const releaseScheduleSummarySchema = z.object(scheduleFields).openapi('ReleaseScheduleSummary');

export const releaseScheduleSchema = z
  .object({
    ...scheduleFields,
    timezone: z.string(),
    overlap: z.string(),
    createdBy: z.string().optional(),
    recentRuns: z.array(scheduleRunSchema),
    actionsTaken: z.number().int(),
    skippedOverlap: z.number().int(),
  })
  .openapi('ReleaseSchedule');

export const releaseScheduleListSchema = z.object({ schedules: z.array(releaseScheduleSummarySchema) }).openapi('ReleaseScheduleList');

export const releaseRunStartSchema = z
  .object({ workflowId: z.string(), runId: z.string(), started: z.boolean(), batchId: z.string() })
  .openapi('ReleaseRunStart');

export const releaseRunStatusSchema = z
  .object({ workflowId: z.string(), runId: z.string(), status: z.string(), progress: releaseProgressSchema })
  .openapi('ReleaseRunStatus');

export const scheduleDeletedSchema = z.object({ scheduleId: z.string(), deleted: z.literal(true) });

export const noteBodySchema = z
  .object({ note: text({ trim: true, min: 1, max: 500 }).optional() })
  .strict()
  .openapi({ example: { note: 'NAP maintenance window' } });
