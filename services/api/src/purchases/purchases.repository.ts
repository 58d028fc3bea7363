import {
  holdAcceptingLocks,
  isActive,
  NO_OUTBOX,
  nextQueueSeq,
  waitlistPosition,
  type Database,
  type OutboxRecorder,
  type PurchaseRow,
  type PurchaseViewRow,
  unsafeSwitches,
} from '@ticketing/shared';
import { sql, type Kysely, type Transaction } from 'kysely';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * A purchase request as the api accepts it, before Postgres numbers it. `drawKey`: its key in its
 * event's draw (events with a sale start), kept only if Postgres pre-queues it.
 */
export type AcceptedPurchase = Pick<
  PurchaseRow,
  'id' | 'eventId' | 'userId' | 'quantity' | 'joinWaitlist' | 'idempotencyKey' | 'drawKey'
>;

/** Why the sale window refused a purchase, by Postgres's clock when the purchase was numbered. */
export type WindowRefusal = 'sale_not_open' | 'sale_ended';

/** What Postgres made of one accepted request. */
export type StoredPurchase =
  | {
      readonly kind: 'stored';
      readonly row: Pick<PurchaseRow, 'id' | 'seq' | 'createdAt' | 'status' | 'drawKey'>;
    }
  | { readonly kind: 'refused'; readonly id: string; readonly refusal: WindowRefusal };

const skipConflicts = unsafeSwitches['no-idempotency-conflict']
  ? sql`on conflict (event_id, user_id) where status = 'prequeued' do nothing`
  : sql`on conflict do nothing`;

/**
 * Stores purchases, each numbered by the purchase sequence in the order given (see
 * holdAcceptingLocks). The sale window is judged here, by the clock of this statement, which runs once
 * the accepting locks are held: before the pre-queue opens or after the end a request is refused; before
 * the start it is `prequeued` with its draw key. So a request is pre-queued exactly when it is
 * numbered before the start, and the draw (which takes the same lock after the start) sees every one.
 * Those whose idempotency key another purchase of the event already holds, or whose buyer is already
 * in the event's pre-queue, are skipped (not returned). The rows travel as one array per column: the
 * statement stays the same size however many rows it carries, so neither Kysely nor Postgres does
 * per-row work to build or plan it.
 */
export async function insertPurchases(
  db: Kysely<Database>,
  purchases: readonly AcceptedPurchase[],
  /** Where pre-queue entries record their `purchase.prequeued` messages, in this transaction. */
  outbox: OutboxRecorder = NO_OUTBOX,
): Promise<StoredPurchase[]> {
  if (purchases.length === 0) return [];
  const column = <K extends keyof AcceptedPurchase>(key: K): AcceptedPurchase[K][] =>
    purchases.map((purchase) => purchase[key]);
  return db.transaction().execute(async (tx) => {
    await holdAcceptingLocks(
      tx,
      purchases.map((purchase) => purchase.eventId),
    );
    const { rows } = await sql<{
      id: string;
      seq: number | null;
      createdAt: Date | null;
      status: PurchaseRow['status'] | null;
      drawKey: string | null;
      refusal: WindowRefusal | null;
    }>`
    with request as (
      select r.*, case
          when e.sales_end_at <= statement_timestamp() then 'sale_ended'
          when e.pre_queue_opens_at > statement_timestamp() then 'sale_not_open'
        end as refusal,
        coalesce(e.sales_start_at > statement_timestamp(), false) as prequeue
      from unnest(
        ${column('id')}::uuid[], ${column('eventId')}::uuid[], ${column('userId')}::text[],
        ${column('quantity')}::integer[], ${column('joinWaitlist')}::boolean[],
        ${column('idempotencyKey')}::text[], ${column('drawKey')}::text[]
      ) with ordinality as r(id, event_id, user_id, quantity, join_waitlist, idempotency_key, draw_key, n)
      join events e on e.id = r.event_id
    ), stored as (
      insert into purchases (id, event_id, user_id, quantity, join_waitlist, idempotency_key, status, draw_key)
      select id, event_id, user_id, quantity, join_waitlist, idempotency_key,
        case when prequeue then 'prequeued' else 'queued' end, case when prequeue then draw_key end
      from request where refusal is null
      order by n
      ${skipConflicts}
      returning id, seq, created_at, status, draw_key
    )
    select id, seq, created_at, status, draw_key, null as refusal from stored
    union all
    select id, null, null, null, null, refusal from request where refusal is not null`.execute(tx);
    const entered = rows.filter((row) => row.status === 'prequeued');
    if (entered.length > 0)
      await outbox.record(
        tx,
        entered.map((row) => ({ purchaseId: row.id, status: 'prequeued' })),
        entered[0]?.createdAt ?? new Date(),
      );
    return rows.map((row): StoredPurchase =>
      row.refusal !== null
        ? { kind: 'refused', id: row.id, refusal: row.refusal }
        : {
            kind: 'stored',
            row: {
              id: row.id,
              seq: Number(row.seq),
              createdAt: row.createdAt ?? new Date(),
              status: row.status ?? 'queued',
              drawKey: row.drawKey,
            },
          },
    );
  });
}

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
 * takes the next number of the purchase sequence under the event's accepting lock: its place in the
 * event's queue.
 */
export async function markCancellationRequested(
  db: Kysely<Database>,
  id: string,
): Promise<PurchaseRow | undefined> {
  return db.transaction().execute(async (tx) => {
    const purchase = await tx
      .selectFrom('purchases')
      .select('eventId')
      .where('id', '=', id)
      .executeTakeFirst();
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
  });
}

/**
 * Cancels a pre-queued purchase at once, if the sale has not started by the clock of the statement that
 * runs under the event's accepting lock: it holds no tickets and has no place in any order yet, so there
 * is nothing to carry out in turn, and it is no longer an entrant of the draw (its key goes). From the
 * start on, the draw (which takes the same lock) counts it in, and its cancellation goes through the
 * queue like any other. The change is recorded in `outbox` in the same transaction.
 */
export async function withdrawFromPrequeue(
  db: Kysely<Database>,
  id: string,
  outbox: OutboxRecorder,
): Promise<PurchaseRow | undefined> {
  return db.transaction().execute(async (tx) => {
    const purchase = await tx
      .selectFrom('purchases')
      .select(['eventId', 'status'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (purchase?.status !== 'prequeued') return undefined;
    await holdAcceptingLocks(tx, [purchase.eventId]);
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
  });
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
