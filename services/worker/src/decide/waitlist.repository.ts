import type { WaitlistEntry } from '@ticketing/shared';
import { sql } from 'kysely';
import type { Tx } from './tx.js';

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
