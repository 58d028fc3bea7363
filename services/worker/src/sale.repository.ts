import { randomUUID } from 'node:crypto';
import type {
  Database,
  EventRow,
  PendingPurchase,
  PurchaseRow,
  PurchaseStatus,
  RejectionReason,
  Settlement,
  WaitlistEntry,
} from '@ticketing/shared';
import { sql, type Transaction } from 'kysely';

/**
 * The worker's reads and writes. Most take several events at once: a round of the drainer decides
 * many events in one transaction, with a statement per step rather than per event. Lists travel as one
 * array per column (`unnest`), so a statement's size does not grow with the number of rows it carries.
 */
type Tx = Transaction<Database>;

/** How far an event's queue is to be applied: every request accepted up to `upToSeq`. */
export interface DrainTarget {
  readonly eventId: string;
  readonly upToSeq: number;
  /**
   * Every purchase of the event up to this sequence number is known to be decided (0: nothing is
   * known), so looking for undecided ones may start after it.
   */
  readonly decidedThrough?: number;
}

const targetArrays = (targets: readonly DrainTarget[]) => ({
  eventIds: targets.map((target) => target.eventId),
  upToSeqs: targets.map((target) => target.upToSeq),
});

/**
 * Takes the events' row locks for the rest of the transaction, always in id order so two workers
 * cannot deadlock. Every decision about an event happens under this lock, so two workers (say, one
 * that lost its lease and did not notice) can never interleave their decisions about one event. It is
 * the no-key kind: the api's purchase inserts (whose foreign key takes a key-share lock on the event)
 * are not held up while a worker decides.
 */
export async function lockEvents(tx: Tx, eventIds: readonly string[]): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  return tx
    .selectFrom('events')
    .selectAll()
    .where('id', '=', (eb) => eb.fn.any(eb.val(eventIds)))
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();
}

export async function lockEvent(tx: Tx, eventId: string): Promise<EventRow | undefined> {
  const [event] = await lockEvents(tx, [eventId]);
  return event;
}

export async function findPurchase(tx: Tx, purchaseId: string): Promise<PurchaseRow | undefined> {
  return tx.selectFrom('purchases').selectAll().where('id', '=', purchaseId).executeTakeFirst();
}

/** What a decision needs to know of a sale besides its event row. Read after the lock is taken. */
export interface SaleSnapshot {
  readonly eventId: string;
  readonly waitlistLength: number;
  /** The earliest cancellation requested up to the target and not yet carried out. */
  readonly nextCancellation: { readonly purchaseId: string; readonly cancelSeq: number } | undefined;
}

export async function loadSaleSnapshots(
  tx: Tx,
  targets: readonly DrainTarget[],
): Promise<Map<string, SaleSnapshot>> {
  if (targets.length === 0) return new Map();
  const { eventIds, upToSeqs } = targetArrays(targets);
  const { rows } = await sql<{
    eventId: string;
    waitlistLength: number;
    cancelPurchaseId: string | null;
    cancelSeq: number | null;
  }>`
    select t.event_id,
      (select count(*) from waitlist_entries w where w.event_id = t.event_id) as waitlist_length,
      c.id as cancel_purchase_id, c.cancel_seq
    from unnest(${eventIds}::uuid[], ${upToSeqs}::bigint[]) as t(event_id, up_to_seq)
    left join lateral (
      select p.id, p.cancel_seq from purchases p
      where p.event_id = t.event_id and p.cancel_seq <= t.up_to_seq
        and p.status in ('queued', 'confirmed', 'waitlisted')
      order by p.cancel_seq limit 1
    ) c on true`.execute(tx);
  return new Map(
    rows.map((row) => [
      row.eventId,
      {
        eventId: row.eventId,
        waitlistLength: row.waitlistLength,
        nextCancellation:
          row.cancelPurchaseId === null || row.cancelSeq === null
            ? undefined
            : { purchaseId: row.cancelPurchaseId, cancelSeq: row.cancelSeq },
      },
    ]),
  );
}

export interface QueuedPurchase extends PendingPurchase {
  readonly eventId: string;
  readonly seq: number;
  /** The user already holds a confirmed or waitlisted purchase of this event. */
  readonly userActive: boolean;
}

/**
 * Undecided purchases of each event accepted up to its target, in the order Postgres accepted them,
 * at most `limit` per event.
 *
 * Whether each buyer already holds an active purchase is a probe of the one-active-purchase index
 * per purchase (a lateral with a limit): written as EXISTS, a young table's missing statistics could
 * get it planned as a hash of every active purchase of the table, rebuilt every round.
 *
 * The search starts after `decidedThrough`: the index of queued purchases still holds entries of
 * purchases decided since the last vacuum, and in a hot sale, walking past them again every round
 * costs more than deciding the round's purchases.
 */
export async function findQueuedPurchases(
  tx: Tx,
  targets: readonly DrainTarget[],
  limit: number,
): Promise<QueuedPurchase[]> {
  if (targets.length === 0) return [];
  const { eventIds, upToSeqs } = targetArrays(targets);
  const afterSeqs = targets.map((target) => target.decidedThrough ?? 0);
  const { rows } = await sql<QueuedPurchase>`
    select p.id, p.event_id, p.seq, p.user_id, p.quantity, p.join_waitlist, a.active is not null as user_active
    from unnest(${eventIds}::uuid[], ${upToSeqs}::bigint[], ${afterSeqs}::bigint[])
      as t(event_id, up_to_seq, after_seq)
    cross join lateral (
      select q.id, q.event_id, q.user_id, q.quantity, q.join_waitlist, q.seq from purchases q
      where q.event_id = t.event_id and q.status = 'queued' and q.seq > t.after_seq and q.seq <= t.up_to_seq
      order by q.seq limit ${limit}
    ) p
    left join lateral (
      select true as active from purchases a
      where a.event_id = p.event_id and a.user_id = p.user_id and a.status in ('confirmed', 'waitlisted')
      limit 1
    ) a on true
    order by p.event_id, p.seq`.execute(tx);
  return rows;
}

/** A sale's tickets going to a purchase. */
export interface Allocation {
  readonly purchaseId: string;
  readonly userId: string;
  readonly quantity: number;
}

/** A purchase's new status, as one statement of a transaction writes it. */
export interface StatusChange {
  readonly purchaseId: string;
  readonly status: Exclude<PurchaseStatus, 'queued'>;
  readonly reason?: RejectionReason;
  readonly bookingId?: string;
  readonly waitlistPosition?: number;
}

/** What an announcement says of a status change committed at `decidedAt`. */
export const toSettlement = (change: StatusChange, decidedAt: Date): Settlement => ({
  id: change.purchaseId,
  status: change.status,
  bookingId: change.bookingId ?? null,
  waitlistPosition: change.waitlistPosition ?? null,
  reason: change.reason ?? null,
  processedAt: decidedAt.toISOString(),
});

/**
 * Adds sold tickets to events. The conditional update is the last line of defence against
 * overselling (with the table's CHECK behind it): if any event would go over, nothing commits.
 */
export async function addSoldTickets(
  tx: Tx,
  sales: readonly { eventId: string; tickets: number }[],
): Promise<void> {
  if (sales.length === 0) return;
  const result = await sql`
    update events e set sold_tickets = e.sold_tickets + s.tickets
    from unnest(
      ${sales.map((sale) => sale.eventId)}::uuid[], ${sales.map((sale) => sale.tickets)}::integer[]
    ) as s(event_id, tickets)
    where e.id = s.event_id and e.sold_tickets + s.tickets <= e.total_tickets`.execute(tx);
  if (result.numAffectedRows !== BigInt(sales.length)) {
    throw new Error(`Refusing to oversell: ${sales.length} sales, ${result.numAffectedRows} fit`);
  }
}

/** Books tickets for allocations, of any events; returns the confirmations with their booking ids. */
export async function insertBookings(
  tx: Tx,
  bookings: readonly (Allocation & { eventId: string; unitPriceCents: number })[],
): Promise<StatusChange[]> {
  if (bookings.length === 0) return [];
  const ids = bookings.map(() => randomUUID());
  await sql`
    insert into bookings (id, purchase_id, event_id, user_id, quantity, unit_price_cents)
    select * from unnest(
      ${ids}::uuid[],
      ${bookings.map((booking) => booking.purchaseId)}::uuid[],
      ${bookings.map((booking) => booking.eventId)}::uuid[],
      ${bookings.map((booking) => booking.userId)}::text[],
      ${bookings.map((booking) => booking.quantity)}::integer[],
      ${bookings.map((booking) => booking.unitPriceCents)}::integer[]
    )`.execute(tx);
  return bookings.map((booking, index) => ({
    purchaseId: booking.purchaseId,
    status: 'confirmed',
    bookingId: ids[index],
  }));
}

/** Appends purchases to the tails of their events' waiting lists, in the order given. */
export async function appendToWaitlists(
  tx: Tx,
  entries: readonly { purchaseId: string; eventId: string; quantity: number }[],
): Promise<void> {
  if (entries.length === 0) return;
  // The identity column numbers the line, so rows must go in in the order given.
  await sql`
    insert into waitlist_entries (purchase_id, event_id, quantity)
    select purchase_id, event_id, quantity
    from unnest(
      ${entries.map((entry) => entry.purchaseId)}::uuid[],
      ${entries.map((entry) => entry.eventId)}::uuid[],
      ${entries.map((entry) => entry.quantity)}::integer[]
    ) with ordinality as entry(purchase_id, event_id, quantity, n)
    order by n`.execute(tx);
}

/**
 * Moves purchases from an expected status to their new one. Every purchase must be in an expected
 * status: anything else means two deciders disagree, and the transaction must not commit.
 */
export async function setStatuses(
  tx: Tx,
  changes: readonly StatusChange[],
  from: readonly PurchaseStatus[],
  decidedAt: Date,
): Promise<void> {
  if (changes.length === 0) return;
  const result = await sql`
    update purchases p set status = c.status, reason = c.reason, processed_at = ${decidedAt}
    from unnest(
      ${changes.map((change) => change.purchaseId)}::uuid[],
      ${changes.map((change) => change.status)}::text[],
      ${changes.map((change) => change.reason ?? null)}::text[]
    ) as c(id, status, reason)
    where p.id = c.id and p.status = any(${from}::text[])`.execute(tx);
  if (result.numAffectedRows !== BigInt(changes.length)) {
    throw new Error(
      `Expected ${changes.length} purchases in status ${from.join('/')}, found ${result.numAffectedRows}`,
    );
  }
}

/**
 * Books tickets for purchases of one event that were queued or waiting, and confirms them. Returns
 * what each became.
 */
export async function confirmPurchases(
  tx: Tx,
  event: EventRow,
  allocations: readonly Allocation[],
  decidedAt: Date,
): Promise<StatusChange[]> {
  if (allocations.length === 0) return [];
  const tickets = allocations.reduce((sum, allocation) => sum + allocation.quantity, 0);
  await addSoldTickets(tx, [{ eventId: event.id, tickets }]);
  const confirmations = await insertBookings(
    tx,
    allocations.map((allocation) => ({
      ...allocation,
      eventId: event.id,
      unitPriceCents: event.priceCents,
    })),
  );
  await setStatuses(tx, confirmations, ['queued', 'waitlisted'], decidedAt);
  return confirmations;
}

/** Frees a confirmed purchase's tickets and marks it cancelled. */
export async function releaseBooking(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  const booking = await tx
    .updateTable('bookings')
    .set({ cancelledAt: decidedAt })
    .where('purchaseId', '=', purchaseId)
    .where('cancelledAt', 'is', null)
    .returning(['eventId', 'quantity'])
    .executeTakeFirst();
  if (booking === undefined) throw new Error(`Confirmed purchase ${purchaseId} has no active booking`);
  await tx
    .updateTable('events')
    .set((eb) => ({ soldTickets: eb('soldTickets', '-', booking.quantity) }))
    .where('id', '=', booking.eventId)
    .execute();
  return cancel(tx, purchaseId, 'confirmed', decidedAt);
}

export async function leaveWaitlist(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  await tx.deleteFrom('waitlistEntries').where('purchaseId', '=', purchaseId).execute();
  return cancel(tx, purchaseId, 'waitlisted', decidedAt);
}

export async function withdrawQueued(tx: Tx, purchaseId: string, decidedAt: Date): Promise<StatusChange> {
  return cancel(tx, purchaseId, 'queued', decidedAt);
}

async function cancel(
  tx: Tx,
  purchaseId: string,
  from: PurchaseStatus,
  decidedAt: Date,
): Promise<StatusChange> {
  const change: StatusChange = { purchaseId, status: 'cancelled' };
  await setStatuses(tx, [change], [from], decidedAt);
  return change;
}

/** The first entries of the waiting list, in line order. */
export async function waitlistHead(
  tx: Tx,
  eventId: string,
  limit: number,
): Promise<(WaitlistEntry & { userId: string })[]> {
  return tx
    .selectFrom('waitlistEntries as w')
    .innerJoin('purchases as p', 'p.id', 'w.purchaseId')
    .select(['w.purchaseId', 'w.quantity', 'p.userId'])
    .where('w.eventId', '=', eventId)
    .orderBy('w.seq')
    .limit(limit)
    .execute();
}

export async function removeWaitlistEntries(tx: Tx, purchaseIds: readonly string[]): Promise<void> {
  if (purchaseIds.length === 0) return;
  await tx
    .deleteFrom('waitlistEntries')
    .where('purchaseId', '=', (eb) => eb.fn.any(eb.val(purchaseIds)))
    .execute();
}
