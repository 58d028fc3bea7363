/** What the client knows of one event's books after a run, as read back through the API. */
export interface EventBooks {
  readonly eventId: string;
  readonly totalTickets: number;
  readonly soldTickets: number;
  readonly priceCents: number;
  readonly report: {
    readonly ticketsSold: number;
    readonly revenueCents: number;
    readonly waitlisted: number;
  };
  readonly purchases: readonly AuditedPurchase[];
}

export interface AuditedPurchase {
  readonly purchaseId: string;
  readonly status: string;
  readonly quantity: number;
  readonly waitlistPosition?: number;
}

/**
 * Checks the books of every event: nothing oversold, confirmed purchases add up to what was sold,
 * revenue is sold × price, the waiting list is numbered 1..n, and no purchase was left undecided.
 */
export function auditBooks(events: readonly EventBooks[]): string[] {
  const violations: string[] = [];
  for (const event of events) {
    const at = `event ${event.eventId}`;
    if (event.soldTickets > event.totalTickets) {
      violations.push(`${at}: sold ${event.soldTickets} > total ${event.totalTickets}`);
    }
    const confirmed = event.purchases
      .filter((purchase) => purchase.status === 'confirmed')
      .reduce((sum, purchase) => sum + purchase.quantity, 0);
    if (confirmed !== event.soldTickets) {
      violations.push(`${at}: confirmed quantities sum to ${confirmed}, sold is ${event.soldTickets}`);
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
    const undecided = event.purchases.filter((purchase) => purchase.status === 'queued').length;
    if (undecided > 0) violations.push(`${at}: ${undecided} purchases still queued`);
  }
  return violations;
}
