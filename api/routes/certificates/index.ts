import type { RouteModule } from '../../context.ts';
import { certificateActionRoutes } from './actions.ts';
import { certificateHistoryRoutes } from './history.ts';
import { certificateReadRoutes } from './read.ts';
import { certificateVectoRoutes } from './vecto.ts';

/**
 * The certificate resource, `/api/v1/certificates` and `/api/v1/certificates/{certificateId}/*`:
 * reading (list, detail, live status, message), history (audit, data versions, diff, receipts),
 * review and lifecycle actions (workflow Updates) and VECTO uploads.
 */
export const certificateRoutes: RouteModule = (table, context) => {
  certificateReadRoutes(table, context);
  certificateHistoryRoutes(table, context);
  certificateActionRoutes(table, context);
  certificateVectoRoutes(table, context);
};
