import { notFound } from '@ticketing/shared';
import { IdParams, commonErrors, errorResponse } from '../http/common.schemas.js';
import type { App, AppDeps } from '../app-types.js';
import { loadSalesReports } from './reports.repository.js';
import { SalesReport, SalesReportList } from './reports.schemas.js';

export function registerReportRoutes(app: App, deps: AppDeps): void {
  app.get(
    '/events/:id/report',
    {
      schema: {
        tags: ['reports'],
        summary: "One event's sales: tickets sold, revenue, bookings, cancellations, waiting list",
        params: IdParams,
        response: { 200: SalesReport, 404: errorResponse[404], ...commonErrors },
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
      schema: {
        tags: ['reports'],
        summary: 'Sales reports of every event',
        response: { 200: SalesReportList, ...commonErrors },
      },
    },
    async () => ({ items: await loadSalesReports(deps.db) }),
  );
}
