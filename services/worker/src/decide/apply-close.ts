import type { Tx } from '@ticketing/shared';
import type { Ended } from './ended.js';
import { eventChange } from './event-figures.js';
import { markClosed } from './events.repository.js';
import { setStatuses } from './purchases.repository.js';
import type { StatusChange } from './status-change.js';
import { closeLine } from './waitlist.repository.js';

/**
 * Carries out the close of a sale at its place in the queue, after every purchase (none is numbered
 * after the end): the waiting list closes, each purchase in it ending `rejected` (`sale_ended`), and
 * tickets freed from now on are kept (`freedTickets`). The caller holds the event's row lock and has
 * decided every purchase accepted before the close. Records `event.ended`.
 */
export async function applyClose(tx: Tx, eventId: string, decidedAt: Date): Promise<Ended> {
  const waiting = await closeLine(tx, eventId);
  const rejected = waiting.map((purchaseId): StatusChange => ({
    purchaseId,
    status: 'rejected',
    reason: 'sale_ended',
  }));
  await setStatuses(tx, rejected, ['waitlisted'], decidedAt);
  await markClosed(tx, eventId, decidedAt);
  return { ended: rejected, promoted: [], eventChanges: await eventChange(tx, eventId, 'event.ended') };
}
