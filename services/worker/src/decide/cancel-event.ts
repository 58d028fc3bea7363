import { ACTIVE_STATUSES, cancellationEffect, type EventRow, type Tx } from '@ticketing/shared';
import { cancelBookings } from './bookings.repository.js';
import { advanceCancellation, returnTickets } from './events.repository.js';
import { findActivePurchasesAfter, setStatuses } from './purchases.repository.js';
import type { StatusChange } from './status-change.js';
import { leaveLines } from './waitlist.repository.js';

/**
 * Purchases of a cancelled event cancelled in one round. A round is one transaction, holding the
 * event's row lock and each purchase's: small enough that 100,000 purchases are many short commits (a
 * worker killed halfway keeps what committed, and the event's lock is never held for long), large
 * enough that the per-round cost (the lock, the outbox, the commit) is spread thin.
 */
export const EVENT_CANCELLATION_BATCH = 1_000;

/**
 * One step of an event's cancellation (docs/running-a-sale.md): its next `limit` active purchases by
 * queue order from `cancellation_cursor` end `cancelled` (`event_cancelled`), set-based: bookings
 * cancelled, held and sold tickets returned, waiting entries taken off the line. The cursor moves in
 * the same transaction; a short batch finishes the cancellation. Nothing is promoted: the sale is
 * over. The caller holds the event's row lock.
 */
export async function cancelEventBatch(
  tx: Tx,
  event: Pick<EventRow, 'id' | 'cancellationCursor'>,
  limit: number,
  decidedAt: Date,
): Promise<{ cancelled: StatusChange[]; finished: boolean }> {
  const batch = await findActivePurchasesAfter(tx, event.id, event.cancellationCursor, limit);
  const withEffect = (effect: ReturnType<typeof cancellationEffect>) =>
    batch.filter((purchase) => cancellationEffect(purchase.status) === effect);
  const sold = await cancelBookings(
    tx,
    withEffect('free_booking').map((purchase) => purchase.id),
    decidedAt,
  );
  const held = withEffect('free_hold').reduce((sum, purchase) => sum + purchase.quantity, 0);
  await leaveLines(
    tx,
    withEffect('leave_waitlist').map((purchase) => purchase.id),
  );
  const cancelled = batch.map((purchase): StatusChange => ({
    purchaseId: purchase.id,
    status: 'cancelled',
    reason: 'event_cancelled',
  }));
  await setStatuses(tx, cancelled, ACTIVE_STATUSES, decidedAt);
  if (sold > 0 || held > 0) await returnTickets(tx, { eventId: event.id, sold, held });
  const finished = batch.length < limit;
  await advanceCancellation(
    tx,
    event.id,
    batch.at(-1)?.seq ?? event.cancellationCursor,
    finished ? decidedAt : null,
  );
  return { cancelled, finished };
}
