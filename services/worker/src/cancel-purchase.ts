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
  type StatusChange,
} from './sale.repository.js';

type Tx = Transaction<Database>;

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
    await removeWaitlistEntries(
      tx,
      allocations.map((entry) => entry.purchaseId),
    );
    promotions.push(...(await confirmPurchases(tx, event, allocations, decidedAt)));
    if (promoted.length < head.length || head.length < PROMOTION_BATCH_SIZE) return promotions;
  }
}
