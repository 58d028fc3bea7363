import {
  cancellationEffect,
  type CancellationEffect,
  type FreedTickets,
  type PurchaseStatus,
  type Tx,
} from '@ticketing/shared';
import { cancelBooking } from './bookings.repository.js';
import { returnTickets } from './events.repository.js';
import { promoteWaitlist } from './promote-waitlist.js';
import { findPurchase, setStatuses } from './purchases.repository.js';
import type { Ended } from './ended.js';
import type { StatusChange } from './status-change.js';
import { leaveLine } from './waitlist.repository.js';

/**
 * Carries out a requested cancellation: the purchase gives up what it holds, and freed tickets go to
 * the waiting list in line order (`freed`: not after the close). The caller holds the event's row lock and has decided every
 * purchase accepted before the cancellation.
 */
export async function applyCancellation(
  tx: Tx,
  eventId: string,
  purchaseId: string,
  decidedAt: Date,
  freed: FreedTickets,
): Promise<Ended> {
  const purchase = await findPurchase(tx, purchaseId);
  if (purchase === undefined) return { ended: [], promoted: [] };
  const cancelled = await carryOut(cancellationEffect(purchase.status), purchase);
  if (cancelled === undefined) return { ended: [], promoted: [] };
  // Leaving the line can unblock it too: the new head may fit where the old one did not.
  const promoted = freed === 'promote' ? await promoteWaitlist(tx, eventId, decidedAt) : [];
  return { ended: [cancelled], promoted };

  function carryOut(
    effect: CancellationEffect,
    { quantity, status }: { quantity: number; status: PurchaseStatus },
  ): Promise<StatusChange | undefined> {
    switch (effect) {
      case 'free_booking':
        return freeBooking(tx, purchaseId, decidedAt);
      case 'free_hold':
        return freeHold(tx, eventId, purchaseId, quantity, decidedAt);
      case 'leave_waitlist':
        return leaveWaitlist(tx, purchaseId, decidedAt);
      case 'withdraw':
        return cancel(tx, purchaseId, status, decidedAt);
      case 'none':
        return Promise.resolve(undefined);
    }
  }
}

/** Frees a confirmed purchase's tickets and marks it cancelled. */
async function freeBooking(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  const booking = await cancelBooking(tx, purchaseId, decidedAt);
  if (booking === undefined) throw new Error(`Confirmed purchase ${purchaseId} has no active booking`);
  await returnTickets(tx, { eventId: booking.eventId, sold: booking.quantity, held: 0 });
  return cancel(tx, purchaseId, 'confirmed', decidedAt);
}

/** Frees a held purchase's tickets and marks it cancelled. */
async function freeHold(
  tx: Tx,
  eventId: string,
  purchaseId: string,
  quantity: number,
  decidedAt: Date,
): Promise<StatusChange> {
  const change = await cancel(tx, purchaseId, 'held', decidedAt);
  await returnTickets(tx, { eventId, sold: 0, held: quantity });
  return change;
}

async function leaveWaitlist(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  await leaveLine(tx, purchaseId);
  return cancel(tx, purchaseId, 'waitlisted', decidedAt);
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
