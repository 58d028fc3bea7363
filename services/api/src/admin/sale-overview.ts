import { readPaces, type SalesReport } from '@ticketing/shared';
import type { AppDeps } from '../app-types.js';
import { availableTickets, toSaleWindowView } from '../events/event-view.js';
import { countHeldPurchases, countPrequeued, listRecentEvents } from '../events/events.repository.js';
import { loadSalesReports } from '../reports/reports.repository.js';
import type { SaleOverview } from './admin.schemas.js';

/** Events the monitor shows, newest first. */
export const MONITOR_EVENTS = 50;

/**
 * Decided purchases by their state now. Confirmed, held, waitlisted, cancelled and expired are counted
 * in Postgres (bookings, holds, waiting-list entries, cancelled and expired purchases: indexed reads);
 * the rest of the decided ones were rejected, which no index counts cheaply. `decided` is read from
 * Redis a moment apart from the rest, so the difference is kept from going below zero.
 */
export function outcomesOf(
  decided: number,
  report: Pick<SalesReport, 'bookings' | 'waitlisted' | 'cancellations' | 'holdsExpired'> | undefined,
  held: number,
): SaleOverview['items'][number]['outcomes'] {
  const confirmed = report?.bookings ?? 0;
  const waitlisted = report?.waitlisted ?? 0;
  const cancelled = report?.cancellations ?? 0;
  const expired = report?.holdsExpired ?? 0;
  return {
    confirmed,
    held,
    waitlisted,
    cancelled,
    expired,
    rejected: Math.max(0, decided - confirmed - held - waitlisted - cancelled - expired),
  };
}

/**
 * What the on-sale monitor shows of the newest events: inventory and revenue from Postgres, queue
 * depth from the event queues, and the pace (purchases decided so far, smoothed rate) the workers keep
 * next to the queue positions. The page turns `decided` into purchases per second between polls.
 */
export async function loadSaleOverview(deps: AppDeps, limit = MONITOR_EVENTS): Promise<SaleOverview> {
  const events = await listRecentEvents(deps.db, limit);
  const ids = events.map((event) => event.id);
  const drawing = events.filter((event) => event.salesStartAt !== null && event.drawFinishedAt === null);
  const [reports, held, prequeued, depths, paces] = await Promise.all([
    loadSalesReports(deps.db, ids),
    countHeldPurchases(deps.db, ids),
    countPrequeued(
      deps.db,
      drawing.map((event) => event.id),
    ),
    Promise.all(ids.map((id) => deps.queues.depth(id))),
    readPaces(deps.redis, deps.config.queuePrefix, ids),
  ]);
  const reportOf = new Map(reports.map((report) => [report.eventId, report]));
  return {
    at: new Date().toISOString(),
    items: events.map((event, index) => {
      const report = reportOf.get(event.id);
      const pace = paces[index];
      return {
        eventId: event.id,
        name: event.name,
        totalTickets: event.totalTickets,
        soldTickets: event.soldTickets,
        heldTickets: event.heldTickets,
        availableTickets: availableTickets(event),
        waitlisted: report?.waitlisted ?? 0,
        queueDepth: depths[index] ?? 0,
        decided: pace?.decided ?? 0,
        outcomes: outcomesOf(pace?.decided ?? 0, report, held.get(event.id) ?? 0),
        decidedPerSecond: pace?.perSecond ?? null,
        holdsExpired: report?.holdsExpired ?? 0,
        revenueCents: report?.revenueCents ?? 0,
        currency: event.currency,
        createdAt: event.createdAt.toISOString(),
        saleState: toSaleWindowView(event).saleState,
        salesStartAt: event.salesStartAt?.toISOString() ?? null,
        startsInMs:
          event.salesStartAt !== null && event.salesStartAt > event.dbNow
            ? event.salesStartAt.getTime() - event.dbNow.getTime()
            : null,
        prequeueSize: prequeued.get(event.id) ?? 0,
      };
    }),
  };
}
