import { describe, expect, it } from 'vitest';
import { auditBooks, type AuditedPurchase, type EventBooks } from '../src/audit.js';

const purchase = (status: string, quantity = 1, wasHeld = false): AuditedPurchase => ({
  purchaseId: `${status}-${Math.random()}`,
  status,
  quantity,
  wasHeld,
});

const books = (overrides: Partial<EventBooks> = {}): EventBooks => ({
  eventId: 'e',
  totalTickets: 3,
  soldTickets: 2,
  heldTickets: 0,
  priceCents: 100,
  report: { ticketsSold: 2, revenueCents: 200, waitlisted: 0, holdsExpired: 1 },
  purchases: [purchase('confirmed', 1, true), purchase('confirmed'), purchase('expired', 1, true)],
  ...overrides,
});

describe('auditBooks with holds', () => {
  it('when every hold ended and the figures agree, then the books are clean', () => {
    expect(auditBooks([books()])).toEqual([]);
  });

  it('when sold and held tickets together exceed the total, then it is a violation', () => {
    const violations = auditBooks([
      books({ heldTickets: 2, purchases: [...books().purchases, purchase('held', 2, true)] }),
    ]);
    expect(violations.some((violation) => violation.includes('sold 2 + held 2 > total 3'))).toBe(true);
  });

  it('when a hold is still held, or ended as anything but confirmed, cancelled or expired, then it is a violation', () => {
    const stillHeld = auditBooks([
      books({ heldTickets: 1, purchases: [...books().purchases, purchase('held', 1, true)] }),
    ]);
    expect(stillHeld.some((violation) => violation.includes('1 holds did not end'))).toBe(true);
    const waitingAgain = auditBooks([
      books({ purchases: [...books().purchases, purchase('rejected', 1, true)] }),
    ]);
    expect(waitingAgain.some((violation) => violation.includes('1 holds did not end'))).toBe(true);
  });

  it('when held purchases and held tickets differ, or the report miscounts expired holds, then it is a violation', () => {
    expect(auditBooks([books({ heldTickets: 1 })]).some((v) => v.includes('held quantities sum to 0'))).toBe(
      true,
    );
    expect(
      auditBooks([books({ report: { ...books().report, holdsExpired: 0 } })]).some((v) =>
        v.includes('1 expired holds, report says 0'),
      ),
    ).toBe(true);
  });
});
