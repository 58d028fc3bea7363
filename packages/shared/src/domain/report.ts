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
  readonly cancellations: number;
  readonly waitlisted: number;
  /** Holds that ran out unpaid (their tickets went back). */
  readonly holdsExpired: number;
}

export function buildSalesReport(input: {
  readonly eventId: string;
  readonly currency: string;
  readonly soldAtPrices: readonly SoldAtPrice[];
  readonly cancellations: number;
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
  return {
    eventId: input.eventId,
    ticketsSold,
    revenueCents,
    currency: input.currency,
    bookings,
    cancellations: input.cancellations,
    waitlisted: input.waitlisted,
    holdsExpired: input.holdsExpired,
  };
}
