import { notFound } from '@ticketing/shared';
import {
  IdParams,
  adminErrors,
  commonErrors,
  errorResponse,
  invalidRequest,
} from '../http/common.schemas.js';
import type { App, AppDeps } from '../app-types.js';
import { requireAdmin } from '../http/admin-auth.js';
import { loadSalesReports } from './reports.repository.js';
import { pageOfEvents } from '../events/event-page.js';
import { ListEventsQuery } from '../events/events.schemas.js';
import { SalesReport, SalesReportPage } from './reports.schemas.js';

/** Revenue and buyer counts are the shop's business: behind the admin token, like the monitor. */
export function registerReportRoutes(app: App, deps: AppDeps): void {
  const guard = requireAdmin(deps.config.adminToken);
  app.get(
    '/events/:id/report',
    {
      onRequest: guard,
      schema: {
        security: [{ adminToken: [] }],
        tags: ['reports'],
        summary: "One event's sales: tickets sold, revenue, bookings, cancellations, waiting list",
        params: IdParams,
        response: { 200: SalesReport, ...adminErrors, 404: errorResponse[404], ...commonErrors },
      },
    },
    async (request) => {
      const [report] = await loadSalesReports(deps.db, [request.params.id]);
      if (report === undefined) throw notFound('Event');
      return report;
    },
  );

  app.get(
    '/reports/events',
    {
      onRequest: guard,
      schema: {
        security: [{ adminToken: [] }],
        tags: ['reports'],
        summary: 'Sales reports of every event, a page at a time in creation order (like `GET /events`)',
        querystring: ListEventsQuery,
        response: {
          200: SalesReportPage,
          ...adminErrors,
          ...commonErrors,
          400: invalidRequest('invalid_cursor'),
        },
      },
    },
    async (request) => {
      const { rows, nextCursor } = await pageOfEvents(deps.db, request.query);
      return {
        items: await loadSalesReports(
          deps.db,
          rows.map((event) => event.id),
        ),
        nextCursor,
      };
    },
  );
}
