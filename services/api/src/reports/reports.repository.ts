import {
  buildSalesReport,
  waitlistLength,
  type Database,
  type SalesReport,
  type SoldAtPrice,
} from '@ticketing/shared';
import type { Kysely } from 'kysely';

/**
 * Sales reports of the given events, in creation order, computed from their rows. Every statement
 * is limited to those events (index lookups by event), so a page of reports costs the same however
 * many events there are.
 */
export async function loadSalesReports(
  db: Kysely<Database>,
  eventIds: readonly string[],
): Promise<SalesReport[]> {
  if (eventIds.length === 0) return [];
  const ids = [...eventIds];

  /** `reason`: null for a buyer's cancellation, `event_cancelled` for the event's. */
  const countByEvent = (status: 'cancelled' | 'expired', reason: 'event_cancelled' | null = null) =>
    db
      .selectFrom('purchases')
      .select((eb) => ['eventId', eb.fn.countAll<number>().as('count')])
      .where('status', '=', status)
      .where('reason', reason === null ? 'is' : '=', reason)
      .where('eventId', 'in', ids)
      .groupBy('eventId')
      .execute();

  const [events, sold, refund, cancelled, eventCancelled, expired] = await Promise.all([
    db
      .selectFrom('events as e')
      .select(['e.id', 'e.currency', waitlistLength('e').as('waitlisted')])
      .where('e.id', 'in', ids)
      .orderBy('e.createdAt')
      .orderBy('e.id')
      .execute(),
    db
      .selectFrom('bookings')
      .select((eb) => [
        'eventId',
        'unitPriceCents',
        eb.fn.sum<number>('quantity').as('tickets'),
        eb.fn.countAll<number>().as('bookings'),
      ])
      .where('cancelledAt', 'is', null)
      .where('eventId', 'in', ids)
      .groupBy(['eventId', 'unitPriceCents'])
      .execute(),
    // The bookings of cancelled events: those the cancellation cancelled, and those it is still to.
    db
      .selectFrom('bookings as b')
      .innerJoin('events as e', 'e.id', 'b.eventId')
      .innerJoin('purchases as p', 'p.id', 'b.purchaseId')
      .select((eb) => [
        'b.eventId',
        'b.unitPriceCents',
        eb.fn.sum<number>('b.quantity').as('tickets'),
        eb.fn.countAll<number>().as('bookings'),
      ])
      .where('e.cancelledAt', 'is not', null)
      .where((eb) => eb.or([eb('b.cancelledAt', 'is', null), eb('p.reason', '=', 'event_cancelled')]))
      .where('b.eventId', 'in', ids)
      .groupBy(['b.eventId', 'b.unitPriceCents'])
      .execute(),
    countByEvent('cancelled'),
    countByEvent('cancelled', 'event_cancelled'),
    countByEvent('expired'),
  ]);

  const soldByEvent = byPrice(sold);
  const refundByEvent = byPrice(refund);
  const eventCancelledByEvent = new Map(eventCancelled.map((row) => [row.eventId, row.count]));
  const cancelledByEvent = new Map(cancelled.map((row) => [row.eventId, row.count]));
  const expiredByEvent = new Map(expired.map((row) => [row.eventId, row.count]));

  return events.map((event) =>
    buildSalesReport({
      eventId: event.id,
      currency: event.currency,
      soldAtPrices: soldByEvent.get(event.id) ?? [],
      refundAtPrices: refundByEvent.get(event.id) ?? [],
      cancellations: cancelledByEvent.get(event.id) ?? 0,
      eventCancelled: eventCancelledByEvent.get(event.id) ?? 0,
      waitlisted: event.waitlisted,
      holdsExpired: expiredByEvent.get(event.id) ?? 0,
    }),
  );
}

function byPrice(
  rows: readonly { eventId: string; unitPriceCents: number; tickets: number; bookings: number }[],
): Map<string, SoldAtPrice[]> {
  const byEvent = new Map<string, SoldAtPrice[]>();
  for (const row of rows) {
    const groups = byEvent.get(row.eventId) ?? [];
    // sum() of an integer column is a Postgres numeric, which arrives as text.
    groups.push({ unitPriceCents: row.unitPriceCents, tickets: Number(row.tickets), bookings: row.bookings });
    byEvent.set(row.eventId, groups);
  }
  return byEvent;
}
