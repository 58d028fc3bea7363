import {
  ACTIVE_STATUSES,
  PLACED_STATUSES,
  sqlList,
  unsafeSwitches,
  type PendingPurchase,
  type PurchaseRow,
  type PurchaseStatus,
  type Tx,
} from '@ticketing/shared';
import { sql } from 'kysely';
import type { StatusChange } from './status-change.js';
import { targetArrays, type DrainTarget } from './target.js';

export async function findPurchase(tx: Tx, purchaseId: string): Promise<PurchaseRow | undefined> {
  return tx.selectFrom('purchases').selectAll().where('id', '=', purchaseId).executeTakeFirst();
}

export interface QueuedPurchase extends PendingPurchase {
  readonly eventId: string;
  readonly seq: number;
  /** The user already has a placed purchase (held, confirmed or waitlisted) of this event. */
  readonly userPlaced: boolean;
}

/**
 * Undecided purchases of each event accepted up to its target, in the order Postgres accepted them,
 * at most `limit` per event.
 *
 * Whether each buyer already has a placed purchase is a probe of the one-placed-purchase index
 * per purchase (a lateral with a limit): written as EXISTS, a young table's missing statistics could
 * get it planned as a hash of every placed purchase of the table, rebuilt every round.
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
  const { eventIds, upToSeqs, afterSeqs } = targetArrays(targets);
  const { rows } = await sql<QueuedPurchase>`
    select p.id, p.event_id, p.seq, p.user_id, p.quantity, p.join_waitlist, a.placed is not null as user_placed
    from unnest(${eventIds}::uuid[], ${upToSeqs}::bigint[], ${afterSeqs}::bigint[])
      as t(event_id, up_to_seq, after_seq)
    cross join lateral (
      select q.id, q.event_id, q.user_id, q.quantity, q.join_waitlist, q.seq from purchases q
      where q.event_id = t.event_id and q.status = 'queued' and q.seq > t.after_seq and q.seq <= t.up_to_seq
      order by q.seq limit ${limit}
    ) p
    left join lateral (
      select true as placed from purchases a
      where a.event_id = p.event_id and a.user_id = p.user_id and a.status in ${sqlList(PLACED_STATUSES)}
      limit 1
    ) a on true
    order by p.event_id, p.seq`.execute(tx);
  return rows;
}

/** The condition that a purchase `p` still has one of the statuses a change expects. */
const inStatus = (from: readonly PurchaseStatus[]) =>
  unsafeSwitches['any-prior-status'] ? sql`true` : sql`p.status = any(${from}::text[])`;

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
    where p.id = c.id and ${inStatus(from)}`.execute(tx);
  if (result.numAffectedRows !== BigInt(changes.length)) {
    throw new Error(
      `Expected ${changes.length} purchases in status ${from.join('/')}, found ${result.numAffectedRows}`,
    );
  }
}

/** A purchase of an event with holds getting tickets: held for the event's `holdSeconds`. */
export interface NewHold {
  readonly purchaseId: string;
  readonly holdSeconds: number;
}

/**
 * Moves purchases from an expected status to `held`, each until `holdSeconds` from now by the
 * database's clock (the clock confirmations and the sweep of due holds compare against): from this
 * statement's start, not the round's, which may have waited for the event's lock, so the buyer gets
 * the whole hold, and an event's holds run out in the order they were given. Returns the
 * changes with their `holdExpiresAt`. Like setStatuses, a purchase in any other status means two
 * deciders disagree, and the transaction must not commit.
 */
export async function holdPurchases(
  tx: Tx,
  holds: readonly NewHold[],
  from: readonly PurchaseStatus[],
  decidedAt: Date,
): Promise<StatusChange[]> {
  if (holds.length === 0) return [];
  const { rows } = await sql<{ id: string; holdExpiresAt: Date }>`
    update purchases p
    set status = 'held', processed_at = ${decidedAt},
      hold_expires_at = statement_timestamp() + make_interval(secs => h.hold_seconds)
    from unnest(
      ${holds.map((hold) => hold.purchaseId)}::uuid[], ${holds.map((hold) => hold.holdSeconds)}::integer[]
    ) as h(id, hold_seconds)
    where p.id = h.id and ${inStatus(from)}
    returning p.id, p.hold_expires_at`.execute(tx);
  if (rows.length !== holds.length) {
    throw new Error(`Expected ${holds.length} purchases in status ${from.join('/')}, found ${rows.length}`);
  }
  return rows.map((row) => ({ purchaseId: row.id, status: 'held', holdExpiresAt: row.holdExpiresAt }));
}

/** Ends an event's holds whose expiry has this place in the queue and that are still held. */
export async function expireHolds(
  tx: Tx,
  eventId: string,
  expireSeq: number,
  decidedAt: Date,
): Promise<{ purchaseId: string; quantity: number }[]> {
  return tx
    .updateTable('purchases')
    .set({ status: 'expired', processedAt: decidedAt })
    .where('eventId', '=', eventId)
    .where('expireSeq', '=', expireSeq)
    .where('status', '=', 'held')
    .returning(['id as purchaseId', 'quantity'])
    .execute();
}

/** An active purchase of an event being cancelled, as its cancellation needs it. */
export interface ActivePurchase {
  readonly id: string;
  readonly seq: number;
  readonly status: PurchaseStatus;
  readonly quantity: number;
}

/**
 * The event's next `limit` active purchases numbered after `afterSeq`, in queue order, locked: the
 * batch an event's cancellation carries out next.
 */
export async function findActivePurchasesAfter(
  tx: Tx,
  eventId: string,
  afterSeq: number,
  limit: number,
): Promise<ActivePurchase[]> {
  return tx
    .selectFrom('purchases')
    .select(['id', 'seq', 'status', 'quantity'])
    .where('eventId', '=', eventId)
    .where('seq', '>', afterSeq)
    .where('status', 'in', ACTIVE_STATUSES)
    .orderBy('seq')
    .limit(limit)
    .forUpdate()
    .execute();
}

/** The places in the queue of the event's pending expiries up to `upToSeq`, in order, at most `limit`. */
export async function findPendingExpiries(
  tx: Tx,
  eventId: string,
  upToSeq: number,
  limit: number,
): Promise<number[]> {
  const rows = await tx
    .selectFrom('purchases')
    .select('expireSeq')
    .distinct()
    .where('eventId', '=', eventId)
    .where('status', '=', 'held')
    .where('expireSeq', 'is not', null)
    .where('expireSeq', '<=', upToSeq)
    .orderBy('expireSeq')
    .limit(limit)
    .execute();
  return rows.flatMap((row) => (row.expireSeq === null ? [] : [row.expireSeq]));
}
