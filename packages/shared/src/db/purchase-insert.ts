import { sql } from 'kysely';
import { unsafeSwitches } from '../unsafe-switches.js';
import { NO_OUTBOX, type OutboxRecorder } from '../webhooks/outbox.js';
import { takeAcceptingLocks } from './accepting-locks.js';
import type { PurchaseRow } from './database.js';
import type { Tx } from './executor.js';

/**
 * A purchase request as the api accepts it, before Postgres numbers it. `drawKey`: its key in its
 * event's draw (events with a sale start), kept only if Postgres pre-queues it.
 */
export type AcceptedPurchase = Pick<
  PurchaseRow,
  'id' | 'eventId' | 'userId' | 'quantity' | 'joinWaitlist' | 'idempotencyKey' | 'drawKey'
>;

/** What `insertPurchases` reads back of each purchase it stored: what Postgres gave it. */
export type StoredPurchase = Pick<PurchaseRow, 'id' | 'seq' | 'createdAt' | 'status' | 'drawKey'>;

/**
 * Why the sale window refused a purchase, by Postgres's clock when the purchase was numbered, or why
 * its event did: cancelled (requestEventCancellation takes the same lock, so nothing is numbered after it).
 */
export type WindowRefusal = 'sale_not_open' | 'sale_ended' | 'event_cancelled';

/** What Postgres made of one request: stored, or refused by its event's sale window. */
export type InsertOutcome =
  | { readonly kind: 'stored'; readonly row: StoredPurchase }
  | { readonly kind: 'refused'; readonly id: string; readonly refusal: WindowRefusal };

/** Skips a request whose idempotency key the event already has, or whose buyer is in its pre-queue. */
const skipConflicts = unsafeSwitches['no-idempotency-conflict']
  ? sql`on conflict (event_id, user_id) where status = 'prequeued' do nothing`
  : sql`on conflict do nothing`;

/**
 * Stores purchases, each numbered by the purchase sequence in the order given (see
 * takeAcceptingLocks; the caller's transaction holds them until it commits). The sale window is judged here, by the clock of this statement, which runs once
 * the accepting locks are held: before the pre-queue opens or after the end a request is refused;
 * before the start it is `prequeued` with its draw key. So a request is pre-queued exactly when it is
 * numbered before the start, and the draw (which takes the same lock after the start) sees every one.
 * Those whose idempotency key another purchase of the event already holds, or whose buyer is already
 * in the event's pre-queue, are skipped (not returned). The rows travel as one array per column: the
 * statement stays the same size however many rows it carries, so neither Kysely nor Postgres does
 * per-row work to build or plan it. Pre-queue entries record their `purchase.prequeued` messages in
 * `outbox`, in the same transaction. The api's statement; tests store purchases through it too, so
 * that they store them as the api does.
 */
export async function insertPurchases(
  tx: Tx,
  purchases: readonly AcceptedPurchase[],
  outbox: OutboxRecorder = NO_OUTBOX,
): Promise<InsertOutcome[]> {
  if (purchases.length === 0) return [];
  const column = <K extends keyof AcceptedPurchase>(key: K): AcceptedPurchase[K][] =>
    purchases.map((purchase) => purchase[key]);
  await takeAcceptingLocks(
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
        when e.cancelled_at is not null then 'event_cancelled'
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
  return rows.map((row): InsertOutcome =>
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
}

/** The id an outcome is about. */
export const outcomeId = (outcome: InsertOutcome): string =>
  outcome.kind === 'refused' ? outcome.id : outcome.row.id;

/** A purchase's row as `insertPurchases` stored it, before any worker has seen it. */
export const storedPurchaseRow = (purchase: AcceptedPurchase, stored: StoredPurchase): PurchaseRow => ({
  ...purchase,
  reason: null,
  cancelRequestedAt: null,
  cancelSeq: null,
  holdExpiresAt: null,
  expireSeq: null,
  processedAt: null,
  ...stored,
});
