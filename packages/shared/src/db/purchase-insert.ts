import { sql } from 'kysely';
import { unsafeSwitches } from '../unsafe-switches.js';
import { takeAcceptingLocks } from './accepting-locks.js';
import type { PurchaseRow } from './database.js';
import type { Tx } from './executor.js';

/** A purchase request as the api accepts it, before Postgres numbers it. */
export type AcceptedPurchase = Pick<
  PurchaseRow,
  'id' | 'eventId' | 'userId' | 'quantity' | 'joinWaitlist' | 'idempotencyKey'
>;

/** What `insertPurchases` reads back of each purchase it stored: what Postgres gave it. */
export type StoredPurchase = Pick<PurchaseRow, 'id' | 'seq' | 'createdAt'>;

const skipKnownKeys = unsafeSwitches['no-idempotency-conflict']
  ? sql``
  : sql`on conflict (event_id, idempotency_key) where idempotency_key is not null do nothing`;

/**
 * Stores purchases, each numbered by the purchase sequence in the order given, under their events'
 * accepting locks, which the caller's transaction holds until it commits (see takeAcceptingLocks).
 * Those whose idempotency key another purchase of the event already holds are skipped (not
 * returned). The rows travel as one array per column: the statement stays the same size
 * however many rows it carries, so neither Kysely nor Postgres does per-row work to build or plan it.
 * The api's statement; tests store purchases through it too, so that they store them as the api does.
 */
export async function insertPurchases(
  tx: Tx,
  purchases: readonly AcceptedPurchase[],
): Promise<StoredPurchase[]> {
  if (purchases.length === 0) return [];
  const column = <K extends keyof AcceptedPurchase>(key: K): AcceptedPurchase[K][] =>
    purchases.map((purchase) => purchase[key]);
  await takeAcceptingLocks(
    tx,
    purchases.map((purchase) => purchase.eventId),
  );
  const { rows } = await sql<StoredPurchase>`
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

/** A purchase's row as `insertPurchases` stored it, before any worker has seen it. */
export const storedPurchaseRow = (purchase: AcceptedPurchase, stored: StoredPurchase): PurchaseRow => ({
  ...purchase,
  status: 'queued',
  reason: null,
  cancelRequestedAt: null,
  cancelSeq: null,
  holdExpiresAt: null,
  expireSeq: null,
  processedAt: null,
  ...stored,
});
