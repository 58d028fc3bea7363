import { cancellationEffect, planPromotions, type EventRow, type PurchaseStatus } from '@ticketing/shared';
import { cancelBooking, insertBookings, type Allocation } from './bookings.repository.js';
import { addSoldTickets, lockEvent, removeSoldTickets } from './events.repository.js';
import { findPurchase, setStatuses } from './purchases.repository.js';
import type { StatusChange } from './status-change.js';
import type { Tx } from './tx.js';
import { leaveLine, removeLineHead, waitlistHead } from './waitlist.repository.js';

const PROMOTION_BATCH_SIZE = 500;

/**
 * Carries out a requested cancellation: the purchase gives up what it holds, and freed tickets go to
 * the waiting list in line order. The caller holds the event's row lock and has decided every
 * purchase accepted before the cancellation. Returns the purchases whose state changed.
 */
export async function applyCancellation(
  tx: Tx,
  eventId: string,
  purchaseId: string,
  decidedAt: Date,
): Promise<StatusChange[]> {
  const purchase = await findPurchase(tx, purchaseId);
  if (purchase === undefined) return [];
  const cancelled = await carryOut(cancellationEffect(purchase.status));
  if (cancelled === undefined) return [];
  // Leaving the line can unblock it too: the new head may fit where the old one did not.
  return [cancelled, ...(await promoteWaitlist(tx, eventId, decidedAt))];

  function carryOut(effect: ReturnType<typeof cancellationEffect>): Promise<StatusChange | undefined> {
    switch (effect) {
      case 'release_booking':
        return releaseBooking(tx, purchaseId, decidedAt);
      case 'leave_waitlist':
        return leaveWaitlist(tx, purchaseId, decidedAt);
      case 'withdraw':
        return withdrawQueued(tx, purchaseId, decidedAt);
      case 'none':
        return Promise.resolve(undefined);
    }
  }
}

/** Gives free tickets to the waiting list strictly in line order while the head fits. */
export async function promoteWaitlist(tx: Tx, eventId: string, decidedAt: Date): Promise<StatusChange[]> {
  const promotions: StatusChange[] = [];
  for (;;) {
    const event = await lockEvent(tx, eventId);
    if (event === undefined) return promotions;
    const head = await waitlistHead(tx, eventId, PROMOTION_BATCH_SIZE);
    const { promoted } = planPromotions(event.totalTickets - event.soldTickets, head);
    if (promoted.length === 0) return promotions;
    const allocations = head.slice(0, promoted.length);
    await removeLineHead(tx, eventId, allocations);
    const confirmed = await confirmPurchases(tx, event, allocations, decidedAt);
    promotions.push(...confirmed.map((change) => ({ ...change, promoted: true })));
    if (promoted.length < head.length || head.length < PROMOTION_BATCH_SIZE) return promotions;
  }
}

/** Books tickets for waiting purchases of one event and confirms them. */
async function confirmPurchases(
  tx: Tx,
  event: EventRow,
  allocations: readonly Allocation[],
  decidedAt: Date,
): Promise<StatusChange[]> {
  if (allocations.length === 0) return [];
  const tickets = allocations.reduce((sum, allocation) => sum + allocation.quantity, 0);
  await addSoldTickets(tx, [{ eventId: event.id, tickets }]);
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

/** Frees a confirmed purchase's tickets and marks it cancelled. */
async function releaseBooking(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  const booking = await cancelBooking(tx, purchaseId, decidedAt);
  if (booking === undefined) throw new Error(`Confirmed purchase ${purchaseId} has no active booking`);
  await removeSoldTickets(tx, booking.eventId, booking.quantity);
  return cancel(tx, purchaseId, 'confirmed', decidedAt);
}

async function leaveWaitlist(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  await leaveLine(tx, purchaseId);
  return cancel(tx, purchaseId, 'waitlisted', decidedAt);
}

async function withdrawQueued(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  return cancel(tx, purchaseId, 'queued', decidedAt);
}

async function cancel(
  tx: Tx,
  purchaseId: string,
  from: PurchaseStatus,
  decidedAt: Date,
): Promise<StatusChange> {
  const change: StatusChange = { purchaseId, status: 'cancelled' };
  await setStatuses(tx, [change], [from], decidedAt);
  return change;
}
