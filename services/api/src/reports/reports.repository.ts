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

  const countByEvent = (status: 'cancelled' | 'expired') =>
    db
      .selectFrom('purchases')
      .select((eb) => ['eventId', eb.fn.countAll<number>().as('count')])
      .where('status', '=', status)
      .where('eventId', 'in', ids)
      .groupBy('eventId')
      .execute();

  const [events, sold, cancelled, expired] = await Promise.all([
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
    countByEvent('cancelled'),
    countByEvent('expired'),
  ]);

  const soldByEvent = new Map<string, SoldAtPrice[]>();
  for (const row of sold) {
    const groups = soldByEvent.get(row.eventId) ?? [];
    // sum() of an integer column is a Postgres numeric, which arrives as text.
    groups.push({ unitPriceCents: row.unitPriceCents, tickets: Number(row.tickets), bookings: row.bookings });
    soldByEvent.set(row.eventId, groups);
  }
  const cancelledByEvent = new Map(cancelled.map((row) => [row.eventId, row.count]));
  const expiredByEvent = new Map(expired.map((row) => [row.eventId, row.count]));

  return events.map((event) =>
    buildSalesReport({
      eventId: event.id,
      currency: event.currency,
      soldAtPrices: soldByEvent.get(event.id) ?? [],
      cancellations: cancelledByEvent.get(event.id) ?? 0,
      waitlisted: event.waitlisted,
      holdsExpired: expiredByEvent.get(event.id) ?? 0,
    }),
  );
}
