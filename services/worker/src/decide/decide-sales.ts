import { decidePurchases, type EventRow, type Tx } from '@ticketing/shared';
import { insertBookings, type Allocation } from './bookings.repository.js';
import { allotTickets, type Allotment } from './events.repository.js';
import {
  findQueuedPurchases,
  holdPurchases,
  setStatuses,
  type NewHold,
  type QueuedPurchase,
} from './purchases.repository.js';
import type { StatusChange } from './status-change.js';
import { appendToWaitlists } from './waitlist.repository.js';

export interface SaleToDecide {
  readonly event: EventRow;
  /** Decide the purchases accepted up to here. */
  readonly upToSeq: number;
  /** Every purchase up to here is known to be decided already (0: nothing known). */
  readonly decidedThrough: number;
  readonly waitlistLength: number;
}

/**
 * Decides, in queue order, up to `limit` undecided purchases of each sale: load the purchases, decide
 * (pure, per event), persist every event's decisions together. The caller holds the events' row
 * locks. Returns what each purchase became, the events that hit the limit (they may have more), and
 * for those the newest request now decided; and per event, the newest purchase decided.
 *
 * Since an event's purchases become visible strictly in sequence order (the api's accepting lock),
 * and each round decides the earliest undecided ones, every purchase of the event up to the newest
 * one decided here is decided once this commits.
 */
export async function decideSales(
  tx: Tx,
  sales: readonly SaleToDecide[],
  limit: number,
  decidedAt: Date,
): Promise<{
  changes: StatusChange[];
  unfinished: Map<string, number>;
  decidedThrough: Map<string, number>;
}> {
  const queued = await findQueuedPurchases(
    tx,
    sales.map((sale) => ({
      eventId: sale.event.id,
      upToSeq: sale.upToSeq,
      decidedThrough: sale.decidedThrough,
    })),
    limit,
  );
  const byEvent = new Map<string, QueuedPurchase[]>();
  for (const purchase of queued) {
    const purchases = byEvent.get(purchase.eventId);
    if (purchases === undefined) byEvent.set(purchase.eventId, [purchase]);
    else purchases.push(purchase);
  }

  const allotments: Allotment[] = [];
  const holds: NewHold[] = [];
  const bookings: (Allocation & { eventId: string; unitPriceCents: number })[] = [];
  const waitlistEntries: { purchaseId: string; eventId: string; quantity: number }[] = [];
  const changes: StatusChange[] = [];
  const unfinished = new Map<string, number>();
  const decidedThrough = new Map<string, number>();
  for (const { event, waitlistLength } of sales) {
    const purchases = byEvent.get(event.id);
    if (purchases === undefined) continue;
    decidedThrough.set(event.id, purchases.at(-1)?.seq ?? 0);
    if (purchases.length === limit) unfinished.set(event.id, purchases.at(-1)?.seq ?? 0);
    const placedUsers = new Set(purchases.filter((purchase) => purchase.userPlaced).map((p) => p.userId));
    const { decided } = decidePurchases(
      {
        availableTickets: event.totalTickets - event.soldTickets - event.heldTickets,
        holds: event.holdSeconds > 0,
        waitlistLength,
        placedUsers,
      },
      purchases,
    );
    let sold = 0;
    let held = 0;
    for (const { purchase, decision } of decided) {
      const purchaseId = purchase.id;
      if (decision.status === 'held') {
        held += purchase.quantity;
        holds.push({ purchaseId, holdSeconds: event.holdSeconds });
      } else if (decision.status === 'confirmed') {
        sold += purchase.quantity;
        bookings.push({
          purchaseId,
          userId: purchase.userId,
          quantity: purchase.quantity,
          eventId: event.id,
          unitPriceCents: event.priceCents,
        });
      } else if (decision.status === 'waitlisted') {
        waitlistEntries.push({ purchaseId, eventId: event.id, quantity: purchase.quantity });
        changes.push({ purchaseId, status: 'waitlisted', waitlistPosition: decision.waitlistPosition });
      } else {
        changes.push({ purchaseId, status: 'rejected', reason: decision.reason });
      }
    }
    if (sold > 0 || held > 0) allotments.push({ eventId: event.id, sold, held });
  }

  await allotTickets(tx, allotments);
  const confirmations = await insertBookings(tx, bookings);
  await appendToWaitlists(tx, waitlistEntries);
  const decidedNow = [...confirmations, ...changes];
  await setStatuses(tx, decidedNow, ['queued'], decidedAt);
  const heldNow = await holdPurchases(tx, holds, ['queued'], decidedAt);
  return { changes: [...decidedNow, ...heldNow], unfinished, decidedThrough };
}
