import type { FreedTickets, Tx } from '@ticketing/shared';
import { returnTickets } from './events.repository.js';
import { promoteWaitlist } from './promote-waitlist.js';
import { expireHolds } from './purchases.repository.js';
import type { Ended } from './ended.js';

/**
 * Carries out an expiry: the holds the sweep gave this place in the event's queue end as `expired`
 * if they are still held (`expiryEffect`: one confirmed in time, or cancelled first, is left alone),
 * their tickets return, and the waiting list is promoted in line order (`freed`: unless the sale is
 * paused, when the resume promotes, or closed). The caller holds the event's row lock and has decided
 * every purchase accepted before the expiry (or the sale is paused: expiries go on during a pause).
 */
export async function applyExpiry(
  tx: Tx,
  eventId: string,
  expireSeq: number,
  decidedAt: Date,
  freed: FreedTickets,
): Promise<Ended> {
  const expired = await expireHolds(tx, eventId, expireSeq, decidedAt);
  if (expired.length === 0) return { ended: [], promoted: [] };
  const held = expired.reduce((sum, hold) => sum + hold.quantity, 0);
  await returnTickets(tx, { eventId, sold: 0, held });
  return {
    ended: expired.map(({ purchaseId }) => ({ purchaseId, status: 'expired' })),
    promoted: freed === 'promote' ? await promoteWaitlist(tx, eventId, decidedAt) : [],
  };
}
