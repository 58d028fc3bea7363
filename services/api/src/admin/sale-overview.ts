import { entrantsUndecided, readPaces, type SalesReport } from '@ticketing/shared';
import type { AppDeps } from '../app-types.js';
import { availableTickets, toSaleWindowView } from '../events/event-view.js';
import {
  countCancellationLeft,
  countHeldPurchases,
  countPrequeued,
  countPrequeueWithdrawals,
  listRecentEvents,
  type EventRowAt,
} from '../events/events.repository.js';
import { loadSalesReports } from '../reports/reports.repository.js';
import type { SaleOverview } from './admin.schemas.js';

/** Events the monitor shows, newest first. */
export const MONITOR_EVENTS = 50;

/**
 * Decided purchases by their state now. Confirmed, held, waitlisted, cancelled and expired are counted
 * in Postgres (bookings, holds, waiting-list entries, cancelled and expired purchases: indexed reads);
 * the rest of the decided ones were rejected, which no index counts cheaply. `decided` is read from
 * Redis a moment apart from the rest, so the difference is kept from going below zero. Purchases
 * withdrawn from a pre-queue before the start were cancelled without ever being decided, so they are
 * not among the cancelled here (an event's cancellation counts every purchase it cancelled, decided or
 * not: the rate of cancellations then shows its progress).
 */
export function outcomesOf(
  decided: number,
  report:
    | Pick<SalesReport, 'bookings' | 'waitlisted' | 'cancellations' | 'eventCancelled' | 'holdsExpired'>
    | undefined,
  held: number,
  withdrawn = 0,
): SaleOverview['items'][number]['outcomes'] {
  const confirmed = report?.bookings ?? 0;
  const waitlisted = report?.waitlisted ?? 0;
  // The buyers' cancellations and the event's: a purchase is cancelled either way.
  const cancelled = Math.max(0, (report?.cancellations ?? 0) + (report?.eventCancelled ?? 0) - withdrawn);
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
 * Entrants of the event's draw decided so far. The workers' pace counts the purchases leaving the
 * queue's positions, which entrants never join (they have no job), so the draw's are added here: all
 * of them once it is finished, else those up to its cursor in the made draw's keys.
 */
async function entrantsDecided(deps: AppDeps, event: EventRowAt): Promise<number> {
  if (event.drawnAt === null) return 0;
  if (event.drawFinishedAt !== null) return event.drawEntrants ?? 0;
  const keys = (await deps.draws.get(event.id)).keys ?? [];
  return keys.length - entrantsUndecided(keys, event.drawCursor);
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
  const onSale = events.filter((event) => event.salesStartAt !== null).map((event) => event.id);
  const cancelling = (event: EventRowAt) =>
    event.cancelledAt !== null && event.cancellationFinishedAt === null;
  const [reports, held, prequeued, withdrawn, drawDecided, depths, paces, cancellationLeft] =
    await Promise.all([
      loadSalesReports(deps.db, ids),
      countHeldPurchases(deps.db, ids),
      countPrequeued(
        deps.db,
        drawing.map((event) => event.id),
      ),
      countPrequeueWithdrawals(deps.db, onSale),
      Promise.all(events.map((event) => entrantsDecided(deps, event))),
      Promise.all(ids.map((id) => deps.queues.depth(id))),
      readPaces(deps.redis, deps.config.queuePrefix, ids),
      Promise.all(events.map((event) => (cancelling(event) ? countCancellationLeft(deps.db, event.id) : 0))),
    ]);
  const reportOf = new Map(reports.map((report) => [report.eventId, report]));
  return {
    at: new Date().toISOString(),
    items: events.map((event, index) => {
      const report = reportOf.get(event.id);
      const pace = paces[index];
      const decided = (pace?.decided ?? 0) + (drawDecided[index] ?? 0);
      return {
        eventId: event.id,
        name: event.name,
        totalTickets: event.totalTickets,
        soldTickets: event.soldTickets,
        heldTickets: event.heldTickets,
        availableTickets: availableTickets(event),
        waitlisted: report?.waitlisted ?? 0,
        queueDepth: depths[index] ?? 0,
        decided,
        outcomes: outcomesOf(decided, report, held.get(event.id) ?? 0, withdrawn.get(event.id) ?? 0),
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
        cancellationLeft: cancellationLeft[index] ?? 0,
      };
    }),
  };
}
