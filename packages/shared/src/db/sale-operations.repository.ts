import { sql } from 'kysely';
import { nextQueueSeq, takeAcceptingLocks } from './accepting-locks.js';
import type { EventRow } from './database.js';
import type { Tx } from './executor.js';

/**
 * What an operator does to an event's sale (docs/running-a-sale.md), written in the caller's
 * transaction. Each takes the event's accepting lock and then its row lock, the order every writer
 * that numbers something for the event follows (a drain round takes only the row lock), so what
 * these read of the event is what they change, and an operation numbered here takes its place after
 * every purchase accepted before it and before every one after.
 */

/** The event locked for an operation, with Postgres's clock (`dbNow`) and its pending resize. */
export type LockedEvent = EventRow & {
  readonly dbNow: Date;
  /** The total of the latest resize not yet carried out, if any. */
  readonly pendingTotalTickets: number | null;
};

/** Takes the event's accepting lock and row lock; undefined when there is no such event. */
export async function lockEventForOperation(tx: Tx, eventId: string): Promise<LockedEvent | undefined> {
  await takeAcceptingLocks(tx, [eventId]);
  const { rows } = await sql<LockedEvent>`
    select e.*, statement_timestamp() as db_now,
      (select r.total_tickets from event_resizes r
        where r.event_id = e.id and r.applied_at is null order by r.seq desc limit 1) as pending_total_tickets
    from events e where e.id = ${eventId}
    for update`.execute(tx);
  return rows[0];
}

/** The terms an edit changes at once (they apply to what is decided or accepted after it). */
export interface EventTermsChange {
  readonly name?: string;
  readonly priceCents?: number;
  readonly maxPerPurchase?: number;
  readonly holdSeconds?: number;
  readonly salesEndAt?: Date;
}

export async function updateEventTerms(tx: Tx, eventId: string, change: EventTermsChange): Promise<void> {
  if (Object.keys(change).length === 0) return;
  await tx.updateTable('events').set(change).where('id', '=', eventId).execute();
}

/**
 * A change of the total, numbered from the purchase sequence: the round carries it out when its turn
 * comes (every purchase numbered before it is decided on the old total). Needs the accepting lock.
 */
export async function requestResize(tx: Tx, eventId: string, totalTickets: number): Promise<void> {
  await tx.insertInto('eventResizes').values({ seq: nextQueueSeq(), eventId, totalTickets }).execute();
}

/** Decisions stop at once, whatever is queued. */
export async function pauseSale(tx: Tx, eventId: string): Promise<void> {
  await tx
    .updateTable('events')
    .set({ pausedAt: sql`statement_timestamp()` })
    .where('id', '=', eventId)
    .where('pausedAt', 'is', null)
    .execute();
}

export async function resumeSale(tx: Tx, eventId: string): Promise<void> {
  await tx.updateTable('events').set({ pausedAt: null }).where('id', '=', eventId).execute();
}

/**
 * The sale ends now: its end is this moment, and the close takes its place in the queue after every
 * purchase accepted (the accepting lock is held, and an insert after the end is refused). A paused
 * event is resumed, so that the purchases accepted before are decided. Closed before its start, the
 * start (and the pre-queue's opening) move to just before the end, which the window's constraint
 * wants before it: the pre-queue's entrants, accepted before the close, are then drawn and decided.
 */
export async function requestClose(tx: Tx, eventId: string): Promise<void> {
  const justBefore = sql<Date>`statement_timestamp() - interval '1 millisecond'`;
  await tx
    .updateTable('events')
    .set({
      salesEndAt: sql`statement_timestamp()`,
      // Not least(): it would give an event without a start one.
      salesStartAt: sql`case when sales_start_at >= ${justBefore} then ${justBefore} else sales_start_at end`,
      preQueueOpensAt: sql`case when pre_queue_opens_at >= ${justBefore} then ${justBefore} else pre_queue_opens_at end`,
      closeSeq: nextQueueSeq(),
      pausedAt: null,
    })
    .where('id', '=', eventId)
    .where('closeSeq', 'is', null)
    .execute();
}

/**
 * Cancels the event for good; rounds then cancel its purchases in queue order from
 * `cancellation_cursor`. Under the accepting lock, so every purchase is accepted before it or refused.
 */
export async function requestEventCancellation(tx: Tx, eventId: string, reason: string): Promise<void> {
  await tx
    .updateTable('events')
    .set({ cancelledAt: sql`statement_timestamp()`, cancellationReason: reason })
    .where('id', '=', eventId)
    .where('cancelledAt', 'is', null)
    .execute();
}
