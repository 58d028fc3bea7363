/**
 * The audit of the operations a load run did on its sales (`--resize-at`, `--pause-at`, `--close-at`,
 * `--cancel-event-at`; docs/running-a-sale.md), from what the client saw and read back through the
 * API. The client has no sequence numbers: what it knows of a purchase's place against an operation is
 * that its 202 came before the operation was sent (so it is numbered before it) or that it was sent
 * after the operation was answered (numbered after). Its checks rest on those two sides only.
 */

/** What the client saw of one operation on one event. Times are the client's (`performance.now()`). */
export type SaleOperationSeen = {
  readonly eventId: string;
  readonly sentAt: number;
  readonly answeredAt: number;
} & (
  | {
      readonly kind: 'resize';
      readonly totalTickets: number;
      /** At least the total in force before it: the created total, or the one the previous resize asked. */
      readonly totalBefore: number;
      /** The code of a 409 (a total below what is sold and held): then nothing was resized. */
      readonly refused?: string;
    }
  | {
      readonly kind: 'pause';
      /** Sold + held, and waiting, as read once the pause answered and again just before the resume. */
      readonly takenAtPause: number;
      readonly takenAtResume: number;
      readonly waitingAtPause: number;
      readonly waitingAtResume: number;
      /** Of the purchases accepted during the pause, those read just before the resume, and the decided. */
      readonly readDuringPause: number;
      readonly decidedDuringPause: number;
    }
  | { readonly kind: 'close' }
  | {
      readonly kind: 'cancel';
      /** Sold and held as read with the sale paused just before the cancellation. */
      readonly soldBefore: number;
      readonly heldBefore: number;
      /** The cancellation finished (`cancellation.finishedAt`) while the client waited for it. */
      readonly finished: boolean;
    }
);

export interface OperatedPurchase {
  readonly purchaseId: string;
  readonly quantity: number;
  readonly status: string;
  readonly reason?: string;
  /** When its submit began and when its 202 came (client's clock). */
  readonly submittedAt: number;
  readonly acceptedAt: number;
  /** It got tickets at some point: confirmed, held or expired now, or seen held or confirmed before. */
  readonly gotTickets: boolean;
  /** The client cancelled it (a share of the confirmed, `--cancel-ratio`). */
  readonly cancelledByBuyer: boolean;
}

export interface OperatedEvent {
  readonly eventId: string;
  readonly priceCents: number;
  readonly totalTickets: number;
  readonly soldTickets: number;
  readonly heldTickets: number;
  readonly saleState: string;
  readonly pendingTotalTickets: number | null;
  readonly refundDueCents?: number;
  readonly maxQuantity: number;
  readonly purchases: readonly OperatedPurchase[];
}

const ACTIVE: ReadonlySet<string> = new Set(['prequeued', 'queued', 'waitlisted', 'held', 'confirmed']);

const tickets = (purchases: readonly OperatedPurchase[]) =>
  purchases.reduce((sum, purchase) => sum + purchase.quantity, 0);

export function auditSaleOperations(
  seen: readonly SaleOperationSeen[],
  events: readonly OperatedEvent[],
): string[] {
  const violations: string[] = [];
  for (const event of events) {
    const at = `event ${event.eventId}`;
    const operations = seen.filter((operation) => operation.eventId === event.eventId);
    const cancelled = operations.some((operation) => operation.kind === 'cancel');
    const resizes = operations.filter((operation) => operation.kind === 'resize');
    for (const operation of operations) {
      const before = event.purchases.filter((purchase) => purchase.acceptedAt < operation.sentAt);
      // Sent before it, answered after: numbered before or after it, and maybe ahead of some of `before`.
      const inFlight = event.purchases.filter(
        (purchase) => purchase.submittedAt < operation.sentAt && purchase.acceptedAt >= operation.sentAt,
      );
      const after = event.purchases.filter((purchase) => purchase.submittedAt > operation.answeredAt);
      switch (operation.kind) {
        case 'resize': {
          // A cancellation overrides a resize whose turn had not come: nothing to hold it to.
          if (operation.refused !== undefined || cancelled) break;
          // Every purchase numbered before it was decided on the total before it: the first in line
          // got those tickets (less what a head too big for the rest leaves), and kept them, or gave
          // them back only after. Of the first in line, only those in flight as it was sent may be
          // outside `before`.
          const asked = tickets(before);
          const floor = Math.min(operation.totalBefore - (event.maxQuantity - 1), asked) - tickets(inFlight);
          const got = tickets(before.filter((purchase) => purchase.gotTickets));
          if (got < floor)
            violations.push(
              `${at}: purchases decided on the wrong size: the ${before.length} accepted before the resize ` +
                `to ${operation.totalTickets} asked for ${asked} tickets and got ${got}, but the ` +
                `${operation.totalBefore} in force before it give them at least ${floor}`,
            );
          break;
        }
        case 'pause':
          if (operation.decidedDuringPause > 0)
            violations.push(
              `${at}: ${operation.decidedDuringPause} of ${operation.readDuringPause} purchases accepted during the pause were decided before the resume`,
            );
          if (operation.takenAtResume > operation.takenAtPause)
            violations.push(
              `${at}: sold + held grew from ${operation.takenAtPause} to ${operation.takenAtResume} while the sale was paused`,
            );
          if (operation.waitingAtResume !== operation.waitingAtPause)
            violations.push(
              `${at}: the waiting list went from ${operation.waitingAtPause} to ${operation.waitingAtResume} while the sale was paused`,
            );
          break;
        case 'close': {
          if (after.length > 0) violations.push(`${at}: ${after.length} purchases accepted after the close`);
          const waiting = event.purchases.filter((purchase) => purchase.status === 'waitlisted').length;
          if (waiting > 0) violations.push(`${at}: closed, yet ${waiting} purchases still waitlisted`);
          if (event.saleState !== 'ended')
            violations.push(`${at}: closed, yet its sale is ${event.saleState}`);
          break;
        }
        case 'cancel': {
          if (after.length > 0)
            violations.push(`${at}: ${after.length} purchases accepted after the cancellation`);
          if (!operation.finished) violations.push(`${at}: its cancellation did not finish`);
          if (event.saleState !== 'cancelled')
            violations.push(`${at}: cancelled, yet its sale is ${event.saleState}`);
          const active = event.purchases.filter((purchase) => ACTIVE.has(purchase.status)).length;
          if (active > 0) violations.push(`${at}: cancelled, yet ${active} purchases still active`);
          const unexplained = event.purchases.filter(
            (purchase) =>
              purchase.status === 'cancelled' &&
              purchase.reason !== 'event_cancelled' &&
              !purchase.cancelledByBuyer,
          ).length;
          if (unexplained > 0)
            violations.push(`${at}: ${unexplained} purchases cancelled without reason event_cancelled`);
          if (event.soldTickets !== 0 || event.heldTickets !== 0)
            violations.push(`${at}: cancelled, yet ${event.soldTickets} sold and ${event.heldTickets} held`);
          // Paused while sold and held were read: only holds paid for meanwhile may have been sold since.
          const least = operation.soldBefore * event.priceCents;
          const most = (operation.soldBefore + operation.heldBefore) * event.priceCents;
          const refund = event.refundDueCents;
          if (refund === undefined || refund < least || refund > most)
            violations.push(
              `${at}: the report's refundDueCents is ${refund}, the ${operation.soldBefore} tickets sold ` +
                `(and ${operation.heldBefore} held) when it was cancelled make ${least}` +
                (most > least ? ` to ${most}` : ''),
            );
          break;
        }
      }
    }
    if (!cancelled && event.pendingTotalTickets !== null)
      violations.push(`${at}: the resize to ${event.pendingTotalTickets} was never carried out`);
    const last = resizes.filter((operation) => operation.refused === undefined).at(-1);
    if (!cancelled && last !== undefined && event.totalTickets < last.totalTickets)
      violations.push(
        `${at}: the last resize asked for ${last.totalTickets} tickets, the event has ${event.totalTickets}`,
      );
  }
  return violations;
}
