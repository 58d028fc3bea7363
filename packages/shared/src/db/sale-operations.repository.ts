import { sql } from 'kysely';
import { unsafeSwitches } from '../unsafe-switches.js';
import { nextQueueSeq, takeAcceptingLocks } from './accepting-locks.js';
import type { EventRow } from './database.js';
import type { Tx } from './executor.js';

/**
 * The one place that writes an operator's requests on a sale (docs/running-a-sale.md), for the api's
 * routes and the worker's scan alike. Each takes the event's accepting lock, as a purchase insert
 * does: a request with a place in the queue (a resize, a close) is numbered from the purchase
 * sequence in order with the purchases around it, and one without (a pause, a cancellation) is seen
 * by every purchase numbered after it. Whether an operation may be done is the caller's to check
 * first (`checkSaleOperation`, `checkResize`); these only write it.
 */

/** The event locked for an operation, with Postgres's clock (`dbNow`) and its pending resize. */
export type LockedEvent = EventRow & {
  readonly dbNow: Date;
  /** The total of the latest resize not yet carried out, if any. */
  readonly pendingTotalTickets: number | null;
};

/**
 * Takes the event's accepting lock, then its row lock (the order of every writer that numbers
 * something for the event; a drain round takes only the row lock), so that what the caller checks of
 * the event is what these change. Undefined when there is no such event. `no key update`, as a
 * confirmation and a round lock it: the foreign keys of rows inserted meanwhile (bookings) do not wait.
 */
export async function lockEventForOperation(tx: Tx, eventId: string): Promise<LockedEvent | undefined> {
  await takeAcceptingLocks(tx, [eventId]);
  const { rows } = await sql<LockedEvent>`
    select e.*, statement_timestamp() as db_now,
      (select r.total_tickets from event_resizes r
        where r.event_id = e.id and r.applied_at is null order by r.seq desc limit 1) as pending_total_tickets
    from events e where e.id = ${eventId}
    for no key update`.execute(tx);
  return rows[0];
}

/** The terms an edit changes at once (they apply to what is accepted or decided after it). */
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

/** A resize as requested: its place in the queue, and, when carried out, what the total became. */
export interface ResizeRequest {
  readonly seq: number;
  readonly totalTickets: number;
  readonly appliedTotal: number | null;
}

/**
 * Asks for a new total: a row of `event_resizes` numbered from the purchase sequence. A round carries
 * it out when its turn comes (every purchase numbered before it is decided on the old total).
 */
export async function requestResize(tx: Tx, eventId: string, totalTickets: number): Promise<ResizeRequest> {
  await takeAcceptingLocks(tx, [eventId]);
  if (unsafeSwitches['resize-at-once']) return resizeAtOnce(tx, eventId, totalTickets);
  const { rows } = await sql<ResizeRequest>`
    insert into event_resizes (seq, event_id, total_tickets)
    values (${nextQueueSeq()}, ${eventId}, ${totalTickets})
    returning seq, total_tickets, applied_total`.execute(tx);
  return firstRow(rows);
}

/**
 * Negative control only: the total changes now, whatever purchases numbered before the request are
 * still undecided (they are then decided on the new total). It still takes no sold or held ticket away.
 */
async function resizeAtOnce(tx: Tx, eventId: string, totalTickets: number): Promise<ResizeRequest> {
  const { rows } = await sql<ResizeRequest>`
    with resized as (
      update events set total_tickets = greatest(${totalTickets}, sold_tickets + held_tickets)
      where id = ${eventId}
      returning total_tickets
    )
    insert into event_resizes (seq, event_id, total_tickets, applied_at, applied_total)
    select ${nextQueueSeq()}, ${eventId}, ${totalTickets}, now(), resized.total_tickets from resized
    returning seq, total_tickets, applied_total`.execute(tx);
  return firstRow(rows);
}

/** Stops decisions at once (no place in the queue). Returns whether it was running (false: a repeat). */
export async function pauseSale(tx: Tx, eventId: string): Promise<boolean> {
  await takeAcceptingLocks(tx, [eventId]);
  const result = await tx
    .updateTable('events')
    .set({ pausedAt: sql<Date>`statement_timestamp()` })
    .where('id', '=', eventId)
    .where('pausedAt', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Lets decisions go on. Returns whether it was paused (false: a repeat). The caller wakes the event:
 * its purchases kept waiting in Postgres, and the scan of Postgres finds them too.
 */
export async function resumeSale(tx: Tx, eventId: string): Promise<boolean> {
  await takeAcceptingLocks(tx, [eventId]);
  const result = await tx
    .updateTable('events')
    .set({ pausedAt: null })
    .where('id', '=', eventId)
    .where('pausedAt', 'is not', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Ends the sale now (`POST /close`): its end becomes this moment (unless it has passed already), the
 * close takes its place in the queue after every purchase, and a paused sale is resumed so that the
 * purchases accepted before are decided. Returns the close's place (the earlier one on a repeat).
 */
export async function requestClose(tx: Tx, eventId: string): Promise<number | undefined> {
  await takeAcceptingLocks(tx, [eventId]);
  // Closed before its start, the start (and the pre-queue's opening) move to just before the end, which
  // the window's constraint wants before it: the pre-queue's entrants, accepted before, are then drawn.
  const justBefore = sql`statement_timestamp() - interval '1 millisecond'`;
  const { rows } = await sql<{ closeSeq: number }>`
    update events set
      sales_end_at = case when sales_end_at <= statement_timestamp() then sales_end_at else statement_timestamp() end,
      sales_start_at = case when sales_start_at >= ${justBefore} then ${justBefore} else sales_start_at end,
      pre_queue_opens_at = case when pre_queue_opens_at >= ${justBefore} then ${justBefore} else pre_queue_opens_at end,
      close_seq = coalesce(close_seq, ${nextQueueSeq()}),
      paused_at = null
    where id = ${eventId}
    returning close_seq`.execute(tx);
  return rows[0]?.closeSeq;
}

/**
 * Gives a close its place in the queue for each of these events whose end has passed by itself (the
 * workers' scan), under their accepting locks: no purchase is numbered after it (an insert after the
 * end is refused). A paused one stays paused. Returns how many closes were numbered.
 */
export async function numberDueCloses(tx: Tx, eventIds: readonly string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  await takeAcceptingLocks(tx, eventIds);
  const result = await sql`
    update events set close_seq = ${nextQueueSeq()}
    where id = any(${eventIds}::uuid[]) and close_seq is null and cancelled_at is null
      and sales_end_at <= statement_timestamp()`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Cancels the event for good: rounds then cancel its purchases a batch at a time (from
 * `cancellation_cursor`), overriding every other step. Nothing is numbered after it (the insert refuses
 * a cancelled event's purchases under the same lock). A repeat keeps the first reason and time;
 * returns whether this call cancelled it.
 */
export async function requestEventCancellation(tx: Tx, eventId: string, reason: string): Promise<boolean> {
  await takeAcceptingLocks(tx, [eventId]);
  const result = await tx
    .updateTable('events')
    .set({ cancelledAt: sql<Date>`statement_timestamp()`, cancellationReason: reason })
    .where('id', '=', eventId)
    .where('cancelledAt', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

function firstRow<Row>(rows: readonly Row[]): Row {
  const row = rows[0];
  if (row === undefined) throw new Error('Expected the event to exist');
  return row;
}
