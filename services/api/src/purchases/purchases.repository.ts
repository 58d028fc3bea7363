import type { Database, PurchaseRow } from '@ticketing/shared';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { PurchaseViewRow } from './purchase-view.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Sequence numbers are the queue order, but a transaction draws them before it commits. So a request
 * draws its number only while holding a KEY SHARE lock on its event row: the worker decides an event
 * under that row's FOR UPDATE lock, which waits for every holder, so by the time it reads the queue
 * every request numbered before the ones it sees is committed and visible. (The foreign key takes the
 * same lock, but only after the row, and its number, exist.) Locks in id order, like everyone else.
 */
export async function holdQueueOrder(db: Transaction<Database>, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db
    .selectFrom('events')
    .select('id')
    .where('id', 'in', [...new Set(eventIds)])
    .orderBy('id')
    .forKeyShare()
    .execute();
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

/** Purchases with their booking and live waiting-list position (entries at or before their own). */
export async function findPurchaseViewRows(db: Db, ids: readonly string[]): Promise<PurchaseViewRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('purchases as p')
    .leftJoin('bookings as b', 'b.purchaseId', 'p.id')
    .leftJoin('waitlistEntries as w', 'w.purchaseId', 'p.id')
    .selectAll('p')
    .select('b.id as bookingId')
    .select((eb) =>
      eb
        .selectFrom('waitlistEntries as ahead')
        .select((inner) => inner.fn.countAll<number>().as('position'))
        .whereRef('ahead.eventId', '=', 'p.eventId')
        .whereRef('ahead.seq', '<=', 'w.seq')
        .as('waitlistPosition'),
    )
    .where('p.id', 'in', ids)
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
    .where('status', 'in', ['queued', 'confirmed', 'waitlisted'])
    .where('cancelRequestedAt', 'is', null)
    .orderBy('seq', 'desc')
    .executeTakeFirst();
}

/** Marks a cancellation as requested, once: a second request finds nothing to update. */
export async function markCancellationRequested(
  db: Transaction<Database>,
  id: string,
): Promise<PurchaseRow | undefined> {
  const purchase = await db.selectFrom('purchases').select('eventId').where('id', '=', id).executeTakeFirst();
  if (purchase === undefined) return undefined;
  await holdQueueOrder(db, [purchase.eventId]);
  return (
    db
      .updateTable('purchases')
      // The cancellation takes the next number of the purchase sequence: its place in the queue.
      .set({
        cancelRequestedAt: new Date(),
        cancelSeq: sql<number>`nextval(pg_get_serial_sequence('purchases', 'seq'))`,
      })
      .where('id', '=', id)
      .where('cancelRequestedAt', 'is', null)
      .where('status', 'not in', ['cancelled', 'rejected'])
      .returningAll()
      .executeTakeFirst()
  );
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
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
