/**
 * Active (not cancelled) bookings of one event, grouped by the unit price that was paid. Only confirmed
 * purchases have bookings: a hold is not sold until its payment is confirmed.
 */
export interface SoldAtPrice {
  readonly unitPriceCents: number;
  readonly tickets: number;
  readonly bookings: number;
}

export interface SalesReport {
  readonly eventId: string;
  readonly ticketsSold: number;
  readonly revenueCents: number;
  readonly currency: string;
  readonly bookings: number;
  /** Purchases cancelled by their buyers. */
  readonly cancellations: number;
  readonly waitlisted: number;
  /** Holds that ran out unpaid (their tickets went back). */
  readonly holdsExpired: number;
  /** Purchases cancelled by the event's cancellation (docs/running-a-sale.md). */
  readonly eventCancelled: number;
  /** What the bookings of a cancelled event were paid: to refund. */
  readonly refundDueCents: number;
}

export function buildSalesReport(input: {
  readonly eventId: string;
  readonly currency: string;
  readonly soldAtPrices: readonly SoldAtPrice[];
  /**
   * Bookings the event's cancellation cancelled, and those it is still to cancel (every active one,
   * once the event is cancelled), by price: the refund is due from the moment of the cancellation.
   */
  readonly refundAtPrices: readonly SoldAtPrice[];
  readonly cancellations: number;
  readonly eventCancelled: number;
  readonly waitlisted: number;
  readonly holdsExpired: number;
}): SalesReport {
  let ticketsSold = 0;
  let revenueCents = 0;
  let bookings = 0;
  for (const group of input.soldAtPrices) {
    ticketsSold += group.tickets;
    revenueCents += group.tickets * group.unitPriceCents;
    bookings += group.bookings;
  }
  let refundDueCents = 0;
  for (const group of input.refundAtPrices) refundDueCents += group.tickets * group.unitPriceCents;
  return {
    eventId: input.eventId,
    ticketsSold,
    revenueCents,
    currency: input.currency,
    bookings,
    cancellations: input.cancellations,
    waitlisted: input.waitlisted,
    holdsExpired: input.holdsExpired,
    eventCancelled: input.eventCancelled,
    refundDueCents,
  };
}
