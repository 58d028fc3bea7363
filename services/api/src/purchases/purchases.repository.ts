import {
  holdAcceptingLocks,
  isActive,
  nextQueueSeq,
  waitlistPosition,
  type PurchaseRow,
  type PurchaseViewRow,
  unsafeSwitches,
  type Db,
  type Tx,
} from '@ticketing/shared';
import { sql } from 'kysely';

/** A purchase request as the api accepts it, before Postgres numbers it. */
export type AcceptedPurchase = Pick<
  PurchaseRow,
  'id' | 'eventId' | 'userId' | 'quantity' | 'joinWaitlist' | 'idempotencyKey'
>;

const skipKnownKeys = unsafeSwitches['no-idempotency-conflict']
  ? sql``
  : sql`on conflict (event_id, idempotency_key) where idempotency_key is not null do nothing`;

/**
 * Stores purchases, each numbered by the purchase sequence in the order given, under their events'
 * accepting locks, which the caller's transaction holds until it commits (see holdAcceptingLocks).
 * Those whose idempotency key another purchase of the event already holds are skipped (not
 * returned). The rows travel as one array per column: the statement stays the same size however many
 * rows it carries, so neither Kysely nor Postgres does per-row work to build or plan it.
 */
export async function insertPurchases(
  tx: Tx,
  purchases: readonly AcceptedPurchase[],
): Promise<Pick<PurchaseRow, 'id' | 'seq' | 'createdAt'>[]> {
  if (purchases.length === 0) return [];
  const column = <K extends keyof AcceptedPurchase>(key: K): AcceptedPurchase[K][] =>
    purchases.map((purchase) => purchase[key]);
  await holdAcceptingLocks(
    tx,
    purchases.map((purchase) => purchase.eventId),
  );
  const { rows } = await sql<Pick<PurchaseRow, 'id' | 'seq' | 'createdAt'>>`
    insert into purchases (id, event_id, user_id, quantity, join_waitlist, idempotency_key)
    select id, event_id, user_id, quantity, join_waitlist, idempotency_key from unnest(
      ${column('id')}::uuid[], ${column('eventId')}::uuid[], ${column('userId')}::text[],
      ${column('quantity')}::integer[], ${column('joinWaitlist')}::boolean[],
      ${column('idempotencyKey')}::text[]
    ) with ordinality as request(id, event_id, user_id, quantity, join_waitlist, idempotency_key, n)
    order by n
    ${skipKnownKeys}
    returning id, seq, created_at`.execute(tx);
  return rows;
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
  await holdAcceptingLocks(tx, [purchase.eventId]);
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
