import { configuredDestinationIds } from '../../connectors/delivery/destinations.ts';
import { loadDemo } from '../../demo/load.ts';
import { demoResultSchema } from '../../schemas/api/demo.ts';
import type { RouteModule } from '../context.ts';
import { ownDeadline } from '../middleware/timeout.ts';

/** `POST /api/v1/demo`: `ecoc demo` from the console (the empty dashboard's button). */
export const demoRoutes: RouteModule = (table, { db, client, taskQueue, review, config }) => {
  table.add({
    method: 'post',
    path: '/api/v1/demo',
    operationId: 'loadDemo',
    summary: 'Load the demo data: a type approval, an API key per role (answered once) and 25 vehicles in varied states',
    description: 'Idempotent (a second call answers `alreadyLoaded` and no keys); refused (409) on an installation with other manufacturers’ data. Takes up to a few minutes.',
    tag: 'operations',
    access: 'demo.load',
    responses: {
      200: { description: 'What was loaded; the keys only the first time', schema: demoResultSchema },
      409: { description: 'The installation holds real data (not_allowed_in_state)' },
    },
    async handler({ res }) {
      // The 25 vehicles go through the real lifecycle, which outlasts the request timeout on a
      // loaded machine; the keys exist only in this answer, so a 503 must not replace it.
      ownDeadline(res);
      const destinations = await configuredDestinationIds(config.ECOC_DESTINATIONS_FILE);
      res.json(await loadDemo({ db, client, taskQueue, review, destinations }));
    },
  });
};
