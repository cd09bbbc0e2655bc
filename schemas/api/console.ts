import { certificateStatuses } from '../certificate.ts';
import { id, text } from '../text.ts';
import { certificateSummarySchema } from './certificates.ts';
import { z } from './openapi-zod.ts';

/** Read models for the web console: aggregates, work queues, data history. Every one is scoped to the caller's manufacturers. */

const status = z.enum(certificateStatuses);
const timestamp = z.string().openapi({ format: 'date-time' });

export const consoleSettingsSchema = z
  .object({
    temporalUi: z.object({
      url: z.string().openapi({ description: 'Base URL of the Temporal Web UI (ECOC_TEMPORAL_UI_URL)' }),
      namespace: z.string(),
    }),
  })
  .openapi('ConsoleSettings');

export const queues = ['my-reviews', 'blocked', 'ready-to-release', 'all'] as const;

export const queueQuerySchema = z.object({
  queue: z.enum(queues).default('all').openapi({
    description: 'my-reviews: in review and assigned to you or to nobody; blocked: stopped by blocking findings; ready-to-release: signed, awaiting release; all: every state',
  }),
  vin: id({ trim: true }).optional(),
  typeApprovalNumber: id({ trim: true }).optional(),
  status: status.optional(),
  destination: id({ trim: true }).optional(),
  after: text({ min: 1, max: 500 }).optional().openapi({ description: 'Cursor: nextCursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(200).default(25),
});

export const blockingFindingSchema = z.object({ ruleId: z.string(), path: z.string(), message: z.string(), owner: z.string() });

export const queuePageSchema = z
  .object({
    items: z.array(certificateSummarySchema.extend({ blocking: z.array(blockingFindingSchema).openapi({ description: 'Error findings of the current data version' }) })),
    total: z.number().int().openapi({ description: 'Matches across all pages' }),
    nextCursor: z.string().nullable(),
  })
  .openapi('QueuePage');

const reviewItemSchema = z.object({
  id: z.string(),
  vin: z.string(),
  manufacturerId: z.string(),
  typeApprovalNumber: z.string(),
  owner: z.string().nullable(),
  waitingSince: timestamp,
  reviewDeadline: timestamp.nullable(),
  overdue: z.boolean(),
});

const releaseRunSchema = z.object({
  scheduledAt: timestamp,
  startedAt: timestamp,
  status: z.string().openapi({ description: 'Temporal execution status of the run' }),
  outcome: z.enum(['released', 'skipped']).nullable(),
  delivered: z.number().int().nullable(),
  failed: z.number().int().nullable(),
  note: z.string().nullable().openapi({ description: 'Why a run was skipped' }),
});

export const dashboardSchema = z
  .object({
    generatedAt: timestamp,
    manufacturers: z.array(z.string()).openapi({ description: 'The caller’s scope (["*"] for all)' }),
    counts: z.array(z.object({ manufacturerId: z.string(), destination: z.string().nullable(), status, count: z.number().int() })),
    validation: z
      .object({
        generatedMessages: z.number().int(),
        validatedFirst: z.number().int().openapi({ description: 'Generated from a data version the rules had checked, with no error finding' }),
        share: z.number().nullable().openapi({ description: 'validatedFirst / generatedMessages; null before any message' }),
      })
      .openapi({ description: 'Share of generated IVI messages whose data was validated before the XML was generated' }),
    review: z.object({
      waiting: z.number().int(),
      overdue: z.number().int(),
      oldestWaitingSince: timestamp.nullable(),
      items: z.array(reviewItemSchema).openapi({ description: 'The 50 nearest deadlines' }),
    }),
    signingCertificate: z
      .object({ state: z.string(), subject: z.string(), notAfter: timestamp, daysToExpiry: z.number().int(), message: z.string() })
      .nullable()
      .openapi({ description: 'null when this API process has no signing certificate to watch (set ECOC_SIGNING_CERT_FILE)' }),
    destinations: z
      .array(z.object({ id: z.string(), kind: z.enum(['nap', 'sftp', 'archive']), description: z.string().nullable() }))
      .openapi({ description: 'The configured delivery destinations; under `ecoc start` without a destinations file, the embedded NAP simulator and archive' }),
    releases: z.object({
      visible: z.boolean(),
      note: z.string().nullable(),
      schedules: z.array(
        z.object({ scheduleId: z.string(), destination: z.string(), paused: z.boolean(), nextRun: timestamp.nullable(), lastRun: releaseRunSchema.nullable() }),
      ),
    }),
  })
  .openapi('Dashboard');

export type Dashboard = z.infer<typeof dashboardSchema>;
export type QueuePage = z.infer<typeof queuePageSchema>;
export type Queue = (typeof queues)[number];
export type ConsoleSettings = z.infer<typeof consoleSettingsSchema>;
