import {
  takeAcceptingLocks,
  isActive,
  nextQueueSeq,
  waitlistPosition,
  type PurchaseRow,
  type PurchaseViewRow,
  type Db,
  type Tx,
} from '@ticketing/shared';

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
