import { cancellationEffect, planPromotions, type Database } from '@ticketing/shared';
import type { Transaction } from 'kysely';
import {
  confirmPurchases,
  findPurchase,
  leaveWaitlist,
  lockEvent,
  releaseBooking,
  removeWaitlistEntries,
  waitlistHead,
  withdrawQueued,
} from './sale.repository.js';
import { purchasesDecided } from './metrics.js';

type Tx = Transaction<Database>;

const PROMOTION_BATCH_SIZE = 500;

/**
 * Carries out a requested cancellation: the purchase gives up what it holds, and freed tickets go to
 * the waiting list in line order. The caller holds the event's row lock and has decided every
 * purchase accepted before the cancellation. Returns the ids whose state changed.
 */
export async function applyCancellation(tx: Tx, eventId: string, purchaseId: string): Promise<string[]> {
  const purchase = await findPurchase(tx, purchaseId);
  if (purchase === undefined) return [];
  switch (cancellationEffect(purchase.status)) {
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
      return [];
  }
  purchasesDecided.inc({ outcome: 'cancelled' });
  // Leaving the line can unblock it too: the new head may fit where the old one did not.
  return [purchaseId, ...(await promoteWaitlist(tx, eventId))];
}

/** Gives free tickets to the waiting list strictly in line order while the head fits. */
export async function promoteWaitlist(tx: Tx, eventId: string): Promise<string[]> {
  const promotedIds: string[] = [];
  for (;;) {
    const event = await lockEvent(tx, eventId);
    if (event === undefined) return promotedIds;
    const head = await waitlistHead(tx, eventId, PROMOTION_BATCH_SIZE);
    const { promoted } = planPromotions(event.totalTickets - event.soldTickets, head);
    if (promoted.length === 0) return promotedIds;
    const allocations = head.slice(0, promoted.length);
    await removeWaitlistEntries(
      tx,
      allocations.map((entry) => entry.purchaseId),
    );
    await confirmPurchases(tx, event, allocations);
    purchasesDecided.inc({ outcome: 'promoted' }, allocations.length);
    promotedIds.push(...allocations.map((entry) => entry.purchaseId));
    if (promoted.length < head.length || head.length < PROMOTION_BATCH_SIZE) return promotedIds;
  }
}
