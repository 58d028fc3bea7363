import { describe, expect, it } from 'vitest';
import {
  auditSaleOperations,
  type OperatedEvent,
  type OperatedPurchase,
  type SaleOperationSeen,
} from '../src/sale-operations-audit.js';

/** Purchase n of one ticket, sent at 10n and accepted at 10n + 5 (client's clock). */
const purchase = (n: number, status: string, extra: Partial<OperatedPurchase> = {}): OperatedPurchase => ({
  purchaseId: `p${n}`,
  quantity: 1,
  status,
  submittedAt: 10 * n,
  acceptedAt: 10 * n + 5,
  gotTickets: ['confirmed', 'held', 'expired'].includes(status),
  cancelledByBuyer: false,
  ...extra,
});

const event = (purchases: OperatedPurchase[], extra: Partial<OperatedEvent> = {}): OperatedEvent => ({
  eventId: 'e1',
  priceCents: 100,
  totalTickets: 4,
  soldTickets: purchases.filter((p) => p.status === 'confirmed').length,
  heldTickets: 0,
  saleState: 'on_sale',
  pendingTotalTickets: null,
  maxQuantity: 1,
  purchases,
  ...extra,
});

/** Six purchases, then a resize from 4 tickets to 2 sent at 100 (after all six were accepted). */
const shrink: SaleOperationSeen = {
  kind: 'resize',
  eventId: 'e1',
  sentAt: 100,
  answeredAt: 110,
  totalTickets: 2,
  totalBefore: 4,
};
const six = (confirmed: number) =>
  Array.from({ length: 6 }, (_, i) => purchase(i + 1, i < confirmed ? 'confirmed' : 'waitlisted'));

describe('the audit of the sale operations of a load run', () => {
  it('when the purchases accepted before a smaller total got the tickets of the total before it, then all is well', () => {
    expect(auditSaleOperations([shrink], [event(six(4))])).toEqual([]);
  });

  it('when they were decided on the smaller total (applied at once), then the audit reports purchases decided on the wrong size', () => {
    const violations = auditSaleOperations([shrink], [event(six(2))]);
    expect(violations).toEqual([
      'event e1: purchases decided on the wrong size: the 6 accepted before the resize to 2 asked for 6 tickets and got 2, but the 4 in force before it give them at least 4',
    ]);
    // One purchase still in flight as the resize was sent may have been numbered ahead: one ticket less.
    const inFlight = [...six(3), purchase(9, 'confirmed', { submittedAt: 90, acceptedAt: 120 })];
    expect(auditSaleOperations([shrink], [event(inFlight)])).toEqual([]);
  });

  it('when a resize is still pending at the end or the total is below the one asked, then it is reported', () => {
    expect(auditSaleOperations([shrink], [event(six(4), { pendingTotalTickets: 2 })])).toContain(
      'event e1: the resize to 2 was never carried out',
    );
    expect(
      auditSaleOperations([{ ...shrink, totalTickets: 8 }], [event(six(4), { totalTickets: 6 })]),
    ).toContain('event e1: the last resize asked for 8 tickets, the event has 6');
  });

  it('when something was decided or taken while paused, then the pause is reported', () => {
    const pause: SaleOperationSeen = {
      kind: 'pause',
      eventId: 'e1',
      sentAt: 0,
      answeredAt: 1,
      takenAtPause: 3,
      takenAtResume: 4,
      waitingAtPause: 0,
      waitingAtResume: 1,
      readDuringPause: 10,
      decidedDuringPause: 2,
    };
    expect(auditSaleOperations([pause], [event(six(4))])).toEqual([
      'event e1: 2 of 10 purchases accepted during the pause were decided before the resume',
      'event e1: sold + held grew from 3 to 4 while the sale was paused',
      'event e1: the waiting list went from 0 to 1 while the sale was paused',
    ]);
  });

  it('when an event is cancelled, then every purchase must be over and the refund what was sold', () => {
    const cancel: SaleOperationSeen = {
      kind: 'cancel',
      eventId: 'e1',
      sentAt: 100,
      answeredAt: 110,
      soldBefore: 4,
      heldBefore: 0,
      finished: true,
    };
    const over = six(0).map((p) => ({ ...p, status: 'cancelled', reason: 'event_cancelled' }));
    const cancelled = { saleState: 'cancelled', soldTickets: 0, refundDueCents: 400 };
    expect(auditSaleOperations([cancel], [event(over, cancelled)])).toEqual([]);
    const late = purchase(12, 'queued');
    expect(
      auditSaleOperations([cancel], [event([...over.slice(1), late], { ...cancelled, refundDueCents: 300 })]),
    ).toEqual([
      'event e1: 1 purchases accepted after the cancellation',
      'event e1: cancelled, yet 1 purchases still active',
      "event e1: the report's refundDueCents is 300, the 4 tickets sold (and 0 held) when it was cancelled make 400",
    ]);
  });

  it('when a sale is closed, then nobody waits and nothing is accepted after', () => {
    const close: SaleOperationSeen = { kind: 'close', eventId: 'e1', sentAt: 100, answeredAt: 110 };
    expect(auditSaleOperations([close], [event(six(4), { saleState: 'ended' })])).toEqual([
      'event e1: closed, yet 2 purchases still waitlisted',
    ]);
  });
});
