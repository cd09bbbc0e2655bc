import type { Request } from 'express';
import { seesAllManufacturers } from '../../auth/principal.ts';
import {
  backfillReleaseSchedule,
  createReleaseSchedule,
  deleteReleaseSchedule,
  describeReleaseSchedule,
  listReleaseSchedules,
  pauseReleaseSchedule,
  releaseRunProgress,
  startReleaseRun,
  triggerReleaseSchedule,
  unpauseReleaseSchedule,
} from '../../releases/service.ts';
import {
  noteBodySchema,
  releaseRunStartSchema,
  releaseRunStatusSchema,
  releaseScheduleListSchema,
  releaseScheduleSchema,
  scheduleDeletedSchema,
} from '../../schemas/api/releases.ts';
import { backfillReleaseScheduleSchema, createReleaseScheduleSchema, destinationRefSchema, listReleaseSchedulesSchema, releaseOverridesSchema } from '../../schemas/release.ts';
import { z } from '../../schemas/api/openapi-zod.ts';
import type { RouteModule } from '../context.ts';
import { forbidden } from '../problem.ts';
import { auditApiAction, requestActor } from '../request-context.ts';

/**
 * Releases and their schedules (releases/service.ts, which checks the permission again and
 * refuses with typed RefusedErrors that the problem handler answers). A release takes everything
 * waiting for a destination, whatever the manufacturer, so these routes need a credential scoped
 * to all manufacturers.
 */
export const releaseRoutes: RouteModule = (table, { db, client, config }) => {
  const call = async <T>(req: Request, run: () => Promise<T>, audit?: { action: string; detail: Record<string, unknown> }): Promise<T> => {
    if (!seesAllManufacturers(req.principal!)) throw forbidden('Releases cover every manufacturer’s certificates for a destination: use a credential scoped to all manufacturers (*)');
    const result = await run();
    if (audit) await auditApiAction(db, req, audit.action, null, audit.detail);
    return result;
  };
  const notFound = { 404: { description: 'No schedule or release for that destination' } };

  table.add({
    method: 'get',
    path: '/api/v1/releases/schedules',
    operationId: 'listReleaseSchedules',
    summary: 'List release schedules',
    tag: 'releases',
    access: 'releases.view',
    query: listReleaseSchedulesSchema,
    responses: { 200: { description: 'Schedules', schema: releaseScheduleListSchema } },
    async handler({ req, res, query }) {
      res.json({ schedules: await call(req, () => listReleaseSchedules(client, config, query, requestActor(req))) });
    },
  });
  table.add({
    method: 'post',
    path: '/api/v1/releases/schedules',
    operationId: 'createReleaseSchedule',
    summary: 'Create the release schedule of a destination (cron in a time zone, or an interval)',
    tag: 'releases',
    access: 'releases.manage',
    body: createReleaseScheduleSchema.openapi({ example: { destination: 'nap-simulator', cron: '0 2 * * *', timezone: 'Europe/Brussels', note: 'nightly, after the ERP export' } }),
    responses: { 201: { description: 'The schedule', schema: releaseScheduleSchema }, 409: { description: 'The destination already has a schedule (not_allowed_in_state)' } },
    async handler({ req, res, body }) {
      const view = await call(req, () => createReleaseSchedule(client, config, req.body as Parameters<typeof createReleaseSchedule>[2], requestActor(req)), {
        action: 'release_schedule_created',
        detail: { destination: body.destination },
      });
      res.status(201).json(view);
    },
  });
  table.add({
    method: 'get',
    path: '/api/v1/releases/schedules/:destination',
    operationId: 'describeReleaseSchedule',
    summary: 'A schedule with its next and recent runs',
    tag: 'releases',
    access: 'releases.view',
    params: destinationRefSchema,
    responses: { 200: { description: 'The schedule', schema: releaseScheduleSchema }, ...notFound },
    async handler({ req, res, params }) {
      res.json(await call(req, () => describeReleaseSchedule(client, config, params, requestActor(req))));
    },
  });
  for (const [segment, name, run] of [
    ['pause', 'pauseReleaseSchedule', pauseReleaseSchedule],
    ['unpause', 'unpauseReleaseSchedule', unpauseReleaseSchedule],
  ] as const) {
    table.add({
      method: 'post',
      path: `/api/v1/releases/schedules/:destination/${segment}`,
      operationId: name,
      summary: `${segment === 'pause' ? 'Pause' : 'Resume'} a schedule, with an optional note`,
      tag: 'releases',
      access: 'releases.manage',
      params: destinationRefSchema,
      body: noteBodySchema,
      responses: { 200: { description: 'The schedule', schema: releaseScheduleSchema }, ...notFound },
      async handler({ req, res, params, body }) {
        const input = { destination: params.destination, ...(body.note ? { note: body.note } : {}) };
        res.json(await call(req, () => run(client, config, input, requestActor(req)), { action: `release_schedule_${segment}`, detail: input }));
      },
    });
  }
  table.add({
    method: 'post',
    path: '/api/v1/releases/schedules/:destination/trigger',
    operationId: 'triggerReleaseSchedule',
    summary: 'Run the schedule’s action now',
    tag: 'releases',
    access: 'releases.manage',
    params: destinationRefSchema,
    responses: { 200: { description: 'The schedule', schema: releaseScheduleSchema }, ...notFound },
    async handler({ req, res, params }) {
      res.json(await call(req, () => triggerReleaseSchedule(client, config, params, requestActor(req)), { action: 'release_schedule_triggered', detail: params }));
    },
  });
  table.add({
    method: 'post',
    path: '/api/v1/releases/schedules/:destination/backfill',
    operationId: 'backfillReleaseSchedule',
    summary: 'Run the actions a time range would have run (once each, overlap policy applies)',
    tag: 'releases',
    access: 'releases.manage',
    params: destinationRefSchema,
    // The range from the service's schema; its start < end check runs in the service (a ZodError is a 400).
    body: z
      .object({ start: backfillReleaseScheduleSchema.shape.start, end: backfillReleaseScheduleSchema.shape.end })
      .strict()
      .openapi({ example: { start: '2026-12-01T00:00:00Z', end: '2026-12-02T00:00:00Z' } }),
    responses: { 200: { description: 'The schedule', schema: releaseScheduleSchema }, ...notFound },
    async handler({ req, res, params, body }) {
      const input = { destination: params.destination, start: body.start, end: body.end };
      res.json(await call(req, () => backfillReleaseSchedule(client, config, input, requestActor(req)), { action: 'release_schedule_backfill', detail: input }));
    },
  });
  table.add({
    method: 'delete',
    path: '/api/v1/releases/schedules/:destination',
    operationId: 'deleteReleaseSchedule',
    summary: 'Delete a schedule (releases already running continue)',
    tag: 'releases',
    access: 'releases.manage',
    params: destinationRefSchema,
    responses: { 200: { description: 'Deleted', schema: scheduleDeletedSchema }, ...notFound },
    async handler({ req, res, params }) {
      res.json(await call(req, () => deleteReleaseSchedule(client, config, params, requestActor(req)), { action: 'release_schedule_deleted', detail: params }));
    },
  });
  table.add({
    method: 'post',
    path: '/api/v1/releases/:destination/run',
    operationId: 'startReleaseRun',
    summary: 'Release what is waiting for a destination now (joins a release already running)',
    tag: 'releases',
    access: 'releases.manage',
    params: destinationRefSchema,
    body: releaseOverridesSchema.strict().openapi({ example: { batchSize: 500 } }),
    responses: { 202: { description: 'Started (or already running)', schema: releaseRunStartSchema } },
    async handler({ req, res, params, body }) {
      const input = { destination: params.destination, ...body };
      res.status(202).json(await call(req, () => startReleaseRun(client, config, input, requestActor(req)), { action: 'release_run', detail: input }));
    },
  });
  table.add({
    method: 'get',
    path: '/api/v1/releases/:destination',
    operationId: 'releaseRunProgress',
    summary: 'Progress of the latest release for a destination',
    tag: 'releases',
    access: 'releases.view',
    params: destinationRefSchema,
    responses: { 200: { description: 'Progress', schema: releaseRunStatusSchema }, ...notFound },
    async handler({ req, res, params }) {
      res.json(await call(req, () => releaseRunProgress(client, config, params, requestActor(req))));
    },
  });
};
