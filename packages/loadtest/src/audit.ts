/** What the client knows of one event's books after a run, as read back through the API. */
export interface EventBooks {
  readonly eventId: string;
  readonly totalTickets: number;
  readonly soldTickets: number;
  readonly heldTickets: number;
  readonly priceCents: number;
  readonly report: {
    readonly ticketsSold: number;
    readonly revenueCents: number;
    readonly waitlisted: number;
    readonly holdsExpired: number;
  };
  readonly purchases: readonly AuditedPurchase[];
}

export interface AuditedPurchase {
  readonly purchaseId: string;
  readonly status: string;
  readonly quantity: number;
  readonly waitlistPosition?: number;
  /** Why it was rejected, or cancelled when not by its buyer (`event_cancelled`). */
  readonly reason?: string;
  /** The client saw it held at some point (a hold must end confirmed, cancelled or expired). */
  readonly wasHeld?: boolean;
}

const HOLD_ENDS: ReadonlySet<string> = new Set(['confirmed', 'cancelled', 'expired']);

/**
 * Checks the books of every event: nothing oversold (sold + held within the total), confirmed
 * purchases add up to what was sold and held ones to what is held (no ticket both), revenue is
 * sold × price, the waiting list is numbered 1..n, no purchase was left undecided, every hold ended
 * confirmed, cancelled or expired, and the report counts the expired ones.
 */
export function auditBooks(events: readonly EventBooks[]): string[] {
  const violations: string[] = [];
  for (const event of events) {
    const at = `event ${event.eventId}`;
    if (event.soldTickets + event.heldTickets > event.totalTickets) {
      violations.push(
        `${at}: sold ${event.soldTickets} + held ${event.heldTickets} > total ${event.totalTickets}`,
      );
    }
    const quantityIn = (status: string) =>
      event.purchases
        .filter((purchase) => purchase.status === status)
        .reduce((sum, purchase) => sum + purchase.quantity, 0);
    const confirmed = quantityIn('confirmed');
    if (confirmed !== event.soldTickets) {
      violations.push(`${at}: confirmed quantities sum to ${confirmed}, sold is ${event.soldTickets}`);
    }
    const held = quantityIn('held');
    if (held !== event.heldTickets) {
      violations.push(`${at}: held quantities sum to ${held}, held is ${event.heldTickets}`);
    }
    const unended = event.purchases.filter(
      (purchase) =>
        purchase.status === 'held' || (purchase.wasHeld === true && !HOLD_ENDS.has(purchase.status)),
    );
    if (unended.length > 0) {
      violations.push(`${at}: ${unended.length} holds did not end confirmed, cancelled or expired`);
    }
    const expired = event.purchases.filter((purchase) => purchase.status === 'expired').length;
    if (expired !== event.report.holdsExpired) {
      violations.push(`${at}: ${expired} expired holds, report says ${event.report.holdsExpired}`);
    }
    if (event.report.ticketsSold !== event.soldTickets) {
      violations.push(
        `${at}: report says ${event.report.ticketsSold} sold, status says ${event.soldTickets}`,
      );
    }
    if (event.report.revenueCents !== event.soldTickets * event.priceCents) {
      violations.push(
        `${at}: revenue ${event.report.revenueCents} != sold ${event.soldTickets} × price ${event.priceCents}`,
      );
    }
    const positions = event.purchases
      .filter((purchase) => purchase.status === 'waitlisted')
      .map((purchase) => purchase.waitlistPosition ?? 0)
      .sort((a, b) => a - b);
    if (positions.some((position, index) => position !== index + 1)) {
      violations.push(`${at}: waitlist positions are not exactly 1..${positions.length}`);
    }
    if (positions.length !== event.report.waitlisted) {
      violations.push(
        `${at}: ${positions.length} waitlisted purchases, report says ${event.report.waitlisted}`,
      );
    }
    const undecided = event.purchases.filter(
      (purchase) => purchase.status === 'queued' || purchase.status === 'prequeued',
    ).length;
    if (undecided > 0) violations.push(`${at}: ${undecided} purchases still queued or pre-queued`);
  }
  return violations;
}
