import { decidePurchases, type EventRow, type Tx } from '@ticketing/shared';
import { insertBookings, type Allocation } from './bookings.repository.js';
import { advanceDraws, findPrequeuedPurchases } from './draw.repository.js';
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

/** A decision moves a purchase from the queue, or from the pre-queue at the draw. */
const UNDECIDED = ['queued', 'prequeued'] as const;

export interface SaleToDecide {
  readonly event: EventRow;
  /** Decide the purchases accepted up to here. */
  readonly upToSeq: number;
  /** Every purchase up to here is known to be decided already (0: nothing known). */
  readonly decidedThrough: number;
  readonly waitlistLength: number;
  /**
   * Decide from the event's pre-queue in drawn order instead of its queue, from after this key (null:
   * from the first). Every entrant comes before every queued purchase (see makeDraws).
   */
  readonly draw?: {
    readonly cursor: string | null;
    /** The sale has started by Postgres's clock: a short batch means the whole pre-queue is decided. */
    readonly mayFinish: boolean;
  };
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
  const fromQueue = sales.filter((sale) => sale.draw === undefined);
  const fromDraw = sales.flatMap((sale) =>
    sale.draw === undefined ? [] : [{ eventId: sale.event.id, cursor: sale.draw.cursor }],
  );
  const [queued, drawn] = await Promise.all([
    findQueuedPurchases(
      tx,
      fromQueue.map((sale) => ({
        eventId: sale.event.id,
        upToSeq: sale.upToSeq,
        decidedThrough: sale.decidedThrough,
      })),
      limit,
    ),
    findPrequeuedPurchases(tx, fromDraw, limit),
  ]);
  const byEvent = new Map<string, (QueuedPurchase & { drawKey?: string })[]>();
  for (const purchase of [...queued, ...drawn]) {
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
  const draws: { eventId: string; cursor: string | null; finished: boolean }[] = [];
  for (const { event, waitlistLength, draw } of sales) {
    const purchases = byEvent.get(event.id) ?? [];
    if (draw !== undefined) {
      // Decided in key order, not seq: nothing is known of the queue's order yet. The event goes on
      // in another round, from the pre-queue while it lasts, then from its queue.
      const last = purchases.at(-1);
      const finished = draw.mayFinish && purchases.length < limit;
      draws.push({ eventId: event.id, cursor: last?.drawKey ?? null, finished });
      if (finished || purchases.length === limit) unfinished.set(event.id, 0);
    } else {
      if (purchases.length === 0) continue;
      decidedThrough.set(event.id, purchases.at(-1)?.seq ?? 0);
      if (purchases.length === limit) unfinished.set(event.id, purchases.at(-1)?.seq ?? 0);
    }
    if (purchases.length === 0) continue;
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

  await advanceDraws(tx, draws);
  await allotTickets(tx, allotments);
  const confirmations = await insertBookings(tx, bookings);
  await appendToWaitlists(tx, waitlistEntries);
  const decidedNow = [...confirmations, ...changes];
  await setStatuses(tx, decidedNow, UNDECIDED, decidedAt);
  const heldNow = await holdPurchases(tx, holds, UNDECIDED, decidedAt);
  return { changes: [...decidedNow, ...heldNow], unfinished, decidedThrough };
}
