import {
  takeAcceptingLocks,
  isActive,
  nextQueueSeq,
  waitlistPosition,
  type OutboxRecorder,
  type PurchaseRow,
  type PurchaseViewRow,
  type Db,
  type Tx,
} from '@ticketing/shared';
import { sql } from 'kysely';

/** The buyer's entry in the event's pre-queue, if any (a second is refused). */
export async function findPrequeuedPurchaseOfUser(
  db: Db,
  eventId: string,
  userId: string,
): Promise<PurchaseRow | undefined> {
  return db
    .selectFrom('purchases')
    .selectAll()
    .where('eventId', '=', eventId)
    .where('userId', '=', userId)
    .where('status', '=', 'prequeued')
    .executeTakeFirst();
}

export async function findPurchaseByIdempotencyKey(
  db: Db,
  eventId: string,
  idempotencyKey: string,
): Promise<PurchaseRow | undefined> {
  return db
    .selectFrom('purchases')
    .selectAll()
    .where('eventId', '=', eventId)
    .where('idempotencyKey', '=', idempotencyKey)
    .executeTakeFirst();
}

/**
 * Purchases with their booking and live waiting-list position, read from the entry's line number and
 * its event's head of line (index lookups, however long the line: see `waitlistPosition`).
 */
export async function findPurchaseViewRows(db: Db, ids: readonly string[]): Promise<PurchaseViewRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('purchases as p')
    .leftJoin('bookings as b', 'b.purchaseId', 'p.id')
    .leftJoin('waitlistEntries as w', 'w.purchaseId', 'p.id')
    .leftJoin('events as line', 'line.id', 'w.eventId')
    .selectAll('p')
    .select(['b.id as bookingId', 'b.paymentReference'])
    .select(waitlistPosition('w', 'line').as('waitlistPosition'))
    .where('p.id', '=', (eb) => eb.fn.any(eb.val(ids)))
    .execute() as Promise<PurchaseViewRow[]>;
}

export async function findPurchaseViewRow(db: Db, id: string): Promise<PurchaseViewRow | undefined> {
  const [row] = await findPurchaseViewRows(db, [id]);
  return row;
}

/** The user's purchase that still holds or awaits tickets, for the seed-compatible `/cancel`. */
export async function findActivePurchaseOfUser(
  db: Db,
  eventId: string,
  userId: string,
): Promise<PurchaseRow | undefined> {
  return db
    .selectFrom('purchases')
    .selectAll()
    .where('eventId', '=', eventId)
    .where('userId', '=', userId)
    .where(isActive)
    .where('cancelRequestedAt', 'is', null)
    .orderBy('seq', 'desc')
    .executeTakeFirst();
}

/**
 * Marks a cancellation as requested, once: a second request finds nothing to update. The cancellation
 * takes the next number of the purchase sequence under the event's accepting lock, held by the
 * caller's transaction until it commits: its place in the event's queue.
 */
export async function markCancellationRequested(tx: Tx, id: string): Promise<PurchaseRow | undefined> {
  const purchase = await tx.selectFrom('purchases').select('eventId').where('id', '=', id).executeTakeFirst();
  if (purchase === undefined) return undefined;
  await takeAcceptingLocks(tx, [purchase.eventId]);
  return tx
    .updateTable('purchases')
    .set({
      cancelRequestedAt: new Date(),
      cancelSeq: nextQueueSeq(),
    })
    .where('id', '=', id)
    .where('cancelRequestedAt', 'is', null)
    .where('expireSeq', 'is', null)
    .where(isActive)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Cancels a pre-queued purchase at once, if the sale has not started by the clock of the statement that
 * runs under the event's accepting lock: it holds no tickets and has no place in any order yet, so there
 * is nothing to carry out in turn, and it is no longer an entrant of the draw (its key goes). From the
 * start on, the draw (which takes the same lock) counts it in, and its cancellation goes through the
 * queue like any other. The change is recorded in `outbox` in the same transaction.
 */
export async function withdrawFromPrequeue(
  tx: Tx,
  id: string,
  outbox: OutboxRecorder,
): Promise<PurchaseRow | undefined> {
  const purchase = await tx
    .selectFrom('purchases')
    .select(['eventId', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (purchase?.status !== 'prequeued') return undefined;
  await takeAcceptingLocks(tx, [purchase.eventId]);
  const { rows } = await sql<PurchaseRow>`
    update purchases p
    set status = 'cancelled', draw_key = null, cancel_requested_at = statement_timestamp(),
      processed_at = statement_timestamp()
    from events e
    where p.id = ${id} and p.status = 'prequeued' and e.id = p.event_id
      and e.sales_start_at > statement_timestamp()
    returning p.*`.execute(tx);
  const [row] = rows;
  if (row !== undefined) await outbox.record(tx, [{ purchaseId: id, status: 'cancelled' }], new Date());
  return row;
}

export async function clearCancellationRequest(db: Db, id: string): Promise<void> {
  await db
    .updateTable('purchases')
    .set({ cancelRequestedAt: null, cancelSeq: null })
    .where('id', '=', id)
    .execute();
}

/** Undoes an acceptance whose job could not be enqueued, unless a worker already picked it up. */
export async function deleteQueuedPurchase(db: Db, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('purchases')
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'prequeued'])
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
