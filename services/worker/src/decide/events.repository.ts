import { unsafeSwitches, type EventRow, type Tx } from '@ticketing/shared';
import { sql } from 'kysely';

/**
 * An event as a round sees it, with Postgres's clock at the round's start (`now()`, the transaction's
 * time): every decision about the sale window is taken by that clock, never a process's.
 */
export type LockedEvent = EventRow & { readonly roundNow: Date };

const transactionNow = sql<Date>`now()`.as('roundNow');

/**
 * Takes the events' row locks for the rest of the transaction, always in id order so two workers
 * cannot deadlock. Every decision about an event happens under this lock, so two workers (say, one
 * that lost its lease and did not notice) can never interleave their decisions about one event. It is
 * the no-key kind: the api's purchase inserts (whose foreign key takes a key-share lock on the event)
 * are not held up while a worker decides.
 */
export async function lockEvents(tx: Tx, eventIds: readonly string[]): Promise<LockedEvent[]> {
  if (eventIds.length === 0) return [];
  if (unsafeSwitches['no-event-lock']) return readEventsUnlocked(tx, eventIds);
  return tx
    .selectFrom('events')
    .selectAll()
    .select(transactionNow)
    .where('id', '=', (eb) => eb.fn.any(eb.val(eventIds)))
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();
}

/**
 * Negative control only: the events as they were a moment ago, with nothing stopping another round
 * from deciding in between (the pause makes that overlap happen every time, not now and then).
 */
async function readEventsUnlocked(tx: Tx, eventIds: readonly string[]): Promise<LockedEvent[]> {
  const events = await tx
    .selectFrom('events')
    .selectAll()
    .select(transactionNow)
    .where('id', '=', (eb) => eb.fn.any(eb.val(eventIds)))
    .orderBy('id')
    .execute();
  await sql`select pg_sleep(0.1)`.execute(tx);
  return events;
}

export async function lockEvent(tx: Tx, eventId: string): Promise<LockedEvent | undefined> {
  const [event] = await lockEvents(tx, [eventId]);
  return event;
}

/** Tickets of one event a round gives out: sold (confirmed at once) and held (awaiting payment). */
export interface Allotment {
  readonly eventId: string;
  readonly sold: number;
  readonly held: number;
}

const fitsTheTotal = unsafeSwitches['unconditional-allotment']
  ? sql`true`
  : sql`e.sold_tickets + e.held_tickets + a.sold + a.held <= e.total_tickets`;

/**
 * Gives out tickets of events, sold or held. The conditional update is the last line of defence
 * against overselling (with the table's CHECK of `sold + held <= total` behind it): if any event would
 * go over, nothing commits.
 */
export async function allotTickets(tx: Tx, allotments: readonly Allotment[]): Promise<void> {
  if (allotments.length === 0) return;
  const result = await sql`
    update events e
    set sold_tickets = e.sold_tickets + a.sold, held_tickets = e.held_tickets + a.held
    from unnest(
      ${allotments.map((allotment) => allotment.eventId)}::uuid[],
      ${allotments.map((allotment) => allotment.sold)}::integer[],
      ${allotments.map((allotment) => allotment.held)}::integer[]
    ) as a(event_id, sold, held)
    where e.id = a.event_id and ${fitsTheTotal}`.execute(tx);
  if (result.numAffectedRows !== BigInt(allotments.length)) {
    throw new Error(`Refusing to oversell: ${allotments.length} allotments, ${result.numAffectedRows} fit`);
  }
}

/** Gives an event back tickets a cancelled booking or an ended hold had. */
export async function returnTickets(tx: Tx, returned: Allotment): Promise<void> {
  await tx
    .updateTable('events')
    .set((eb) => ({
      soldTickets: eb('soldTickets', '-', returned.sold),
      heldTickets: eb('heldTickets', '-', returned.held),
    }))
    .where('id', '=', returned.eventId)
    .execute();
}

/**
 * Carries out a resize at its place in the queue: the event's total becomes `totalTickets` and the
 * request records it as applied. The caller computed the total under the row lock (`resizedTotal`).
 */
export async function applyTotal(
  tx: Tx,
  eventId: string,
  resizeSeq: number,
  totalTickets: number,
  appliedAt: Date,
): Promise<void> {
  await tx.updateTable('events').set({ totalTickets }).where('id', '=', eventId).execute();
  await tx
    .updateTable('eventResizes')
    .set({ appliedAt, appliedTotal: totalTickets })
    .where('seq', '=', resizeSeq)
    .where('appliedAt', 'is', null)
    .execute();
}

/** Records that the event's close was carried out: its waiting list is closed for good. */
export async function markClosed(tx: Tx, eventId: string, closedAt: Date): Promise<void> {
  await tx
    .updateTable('events')
    .set({ closedAt })
    .where('id', '=', eventId)
    .where('closedAt', 'is', null)
    .execute();
}

/** Moves the event's cancellation past `cursor` (and records it finished when `finishedAt` is given). */
export async function advanceCancellation(
  tx: Tx,
  eventId: string,
  cursor: number,
  finishedAt: Date | null,
): Promise<void> {
  await tx
    .updateTable('events')
    .set({ cancellationCursor: cursor, cancellationFinishedAt: finishedAt })
    .where('id', '=', eventId)
    .execute();
}
