import { describe, expect, it } from 'vitest';
import { cancellationEffect, checkCancellable } from '../src/domain/cancellation.js';
import { buildSalesReport } from '../src/domain/report.js';
import { planPromotions } from '../src/domain/waitlist.js';

const entry = (purchaseId: string, quantity: number) => ({ purchaseId, quantity });

describe('planPromotions', () => {
  it('when the head fits, then entries are promoted in order while they fit', () => {
    const plan = planPromotions(4, [entry('a', 1), entry('b', 2), entry('c', 2), entry('d', 1)]);
    expect(plan.promoted.map((promoted) => promoted.purchaseId)).toEqual(['a', 'b']);
    expect(plan.availableTickets).toBe(1);
  });

  it('when the head does not fit, then nobody behind it skips ahead', () => {
    const plan = planPromotions(2, [entry('a', 3), entry('b', 1)]);
    expect(plan.promoted).toEqual([]);
    expect(plan.availableTickets).toBe(2);
  });

  it('when the list is empty, then nothing is promoted', () => {
    expect(planPromotions(5, [])).toEqual({ promoted: [], availableTickets: 5 });
  });
});

describe('cancellation', () => {
  it('when a purchase is in each status, then cancelling it has the matching effect', () => {
    expect(cancellationEffect('confirmed')).toBe('free_booking');
    expect(cancellationEffect('waitlisted')).toBe('leave_waitlist');
    expect(cancellationEffect('queued')).toBe('withdraw');
    expect(cancellationEffect('cancelled')).toBe('none');
    expect(cancellationEffect('rejected')).toBe('none');
    expect(cancellationEffect('held')).toBe('free_hold');
    expect(cancellationEffect('expired')).toBe('none');
  });

  it('when cancelled or already being cancelled, then another request is refused as already_cancelled (the api answers 409)', () => {
    expect(checkCancellable({ status: 'cancelled', cancelRequested: true, expiring: false })).toMatchObject({
      code: 'already_cancelled',
    });
    expect(checkCancellable({ status: 'confirmed', cancelRequested: true, expiring: false })).toMatchObject({
      code: 'already_cancelled',
    });
  });

  it('when rejected, then it cannot be cancelled; active purchases can', () => {
    expect(checkCancellable({ status: 'rejected', cancelRequested: false, expiring: false })).toMatchObject({
      code: 'not_cancellable',
    });
    for (const status of ['queued', 'held', 'confirmed', 'waitlisted'] as const) {
      expect(checkCancellable({ status, cancelRequested: false, expiring: false })).toBeUndefined();
    }
  });
});

describe('buildSalesReport', () => {
  it('when tickets sold at several prices, then revenue is the sum of tickets × price paid', () => {
    const report = buildSalesReport({
      eventId: 'e',
      currency: 'EUR',
      soldAtPrices: [
        { unitPriceCents: 1000, tickets: 3, bookings: 2 },
        { unitPriceCents: 1500, tickets: 2, bookings: 1 },
      ],
      refundAtPrices: [],
      cancellations: 4,
      eventCancelled: 0,
      waitlisted: 5,
      holdsExpired: 6,
    });
    expect(report).toEqual({
      eventId: 'e',
      ticketsSold: 5,
      revenueCents: 6000,
      currency: 'EUR',
      bookings: 3,
      cancellations: 4,
      waitlisted: 5,
      holdsExpired: 6,
      eventCancelled: 0,
      refundDueCents: 0,
    });
  });

  it('when the event is cancelled, then the refund due is what its bookings were paid, at each price', () => {
    const report = buildSalesReport({
      eventId: 'e',
      currency: 'EUR',
      soldAtPrices: [{ unitPriceCents: 1000, tickets: 1, bookings: 1 }],
      refundAtPrices: [
        { unitPriceCents: 1000, tickets: 3, bookings: 2 },
        { unitPriceCents: 2500, tickets: 2, bookings: 1 },
      ],
      cancellations: 1,
      eventCancelled: 7,
      waitlisted: 0,
      holdsExpired: 0,
    });
    expect(report).toMatchObject({ refundDueCents: 8000, eventCancelled: 7, cancellations: 1 });
  });

  it('when nothing sold, then everything is zero', () => {
    expect(
      buildSalesReport({
        eventId: 'e',
        currency: 'USD',
        soldAtPrices: [],
        refundAtPrices: [],
        cancellations: 0,
        eventCancelled: 0,
        waitlisted: 0,
        holdsExpired: 0,
      }),
    ).toMatchObject({ ticketsSold: 0, revenueCents: 0, bookings: 0 });
  });
});
