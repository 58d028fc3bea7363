import { planPromotions, type EventRow, type Tx } from '@ticketing/shared';
import { insertBookings } from './bookings.repository.js';
import { allotTickets, lockEvent } from './events.repository.js';
import { holdPurchases, setStatuses } from './purchases.repository.js';
import type { StatusChange } from './status-change.js';
import { removeLineHead, waitlistHead, type LineEntry } from './waitlist.repository.js';

const PROMOTION_BATCH_SIZE = 500;

/**
 * Gives free tickets to the waiting list strictly in line order while the head fits. On an event with
 * holds, a promoted purchase is held in turn, with its own `holdExpiresAt` (an offer): the seat goes
 * to the next in line, who must still pay for it. The caller holds the event's row lock.
 */
export async function promoteWaitlist(tx: Tx, eventId: string, decidedAt: Date): Promise<StatusChange[]> {
  const promotions: StatusChange[] = [];
  for (;;) {
    const event = await lockEvent(tx, eventId);
    if (event === undefined) return promotions;
    const free = event.totalTickets - event.soldTickets - event.heldTickets;
    if (free <= 0) return promotions;
    // Every entry wants at least one ticket: no more than `free` of them can be promoted, so no more
    // are read (a cancellation freeing one ticket reads one entry, not a batch).
    const limit = Math.min(PROMOTION_BATCH_SIZE, free);
    const head = await waitlistHead(tx, event, limit);
    const { promoted } = planPromotions(free, head);
    if (promoted.length === 0) return promotions;
    const allocations = head.slice(0, promoted.length);
    await removeLineHead(tx, eventId, allocations);
    const given = await allocate(tx, event, allocations, decidedAt);
    promotions.push(...given.map((change) => ({ ...change, promoted: true })));
    // A whole batch promoted: the line may have more that fit.
    if (promoted.length < PROMOTION_BATCH_SIZE) return promotions;
  }
}

/** Gives tickets to waiting purchases of one event: held on an event with holds, else booked and confirmed. */
async function allocate(
  tx: Tx,
  event: EventRow,
  allocations: readonly LineEntry[],
  decidedAt: Date,
): Promise<StatusChange[]> {
  const tickets = allocations.reduce((sum, allocation) => sum + allocation.quantity, 0);
  if (event.holdSeconds > 0) {
    await allotTickets(tx, [{ eventId: event.id, sold: 0, held: tickets }]);
    return holdPurchases(
      tx,
      allocations.map((allocation) => ({
        purchaseId: allocation.purchaseId,
        holdSeconds: event.holdSeconds,
      })),
      ['waitlisted'],
      decidedAt,
    );
  }
  await allotTickets(tx, [{ eventId: event.id, sold: tickets, held: 0 }]);
  const confirmations = await insertBookings(
    tx,
    allocations.map((allocation) => ({
      ...allocation,
      eventId: event.id,
      unitPriceCents: event.priceCents,
    })),
  );
  await setStatuses(tx, confirmations, ['queued', 'waitlisted'], decidedAt);
  return confirmations;
}
