import { cancellationEffect, type Database } from '@ticketing/shared';
import type { Kysely } from 'kysely';
import { findPurchase, leaveWaitlist, lockEvent, releaseBooking, withdrawQueued } from './sale.repository.js';
import { promoteWaitlist, settleUpTo } from './settle-purchases.js';

/**
 * Applies a cancellation in queue order: everything accepted before the purchase (and the purchase
 * itself) is decided first, then the purchase gives up what it holds, and freed tickets go to the
 * waiting list in line order. Re-running it changes nothing. Returns the ids whose state changed.
 */
export async function cancelPurchase(
  db: Kysely<Database>,
  eventId: string,
  purchaseId: string,
): Promise<string[]> {
  return db.transaction().execute(async (tx) => {
    const event = await lockEvent(tx, eventId);
    const target = await findPurchase(tx, purchaseId);
    if (event === undefined || target === undefined || target.eventId !== eventId) return [];

    const changed = target.status === 'queued' ? await settleUpTo(tx, eventId, target.seq) : [];
    const current = (await findPurchase(tx, purchaseId)) ?? target;
    switch (cancellationEffect(current.status)) {
      case 'release_booking':
        await releaseBooking(tx, purchaseId);
        break;
      case 'leave_waitlist':
        await leaveWaitlist(tx, purchaseId);
        break;
      case 'withdraw':
        await withdrawQueued(tx, purchaseId);
        break;
      case 'none':
        return changed;
    }
    // Leaving the line can unblock it too: the new head may fit where the old one did not.
    const promoted = await promoteWaitlist(tx, eventId);
    return [...changed, purchaseId, ...promoted];
  });
}
