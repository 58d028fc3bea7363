import { numberDueCloses, type Database } from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';

/** Events given their closes' places in one transaction: each takes an advisory lock (see queueDueExpiries). */
const EVENTS_PER_TRANSACTION = 64;
const EVENTS_PER_SWEEP = 1_000;

/**
 * Gives every sale whose end has passed by itself (by Postgres's clock) its close's place in the
 * queue, as `POST /close` does for an early end: the round that reaches it closes the waiting list.
 * Any worker may sweep; the accepting lock and the re-checked condition give each event one close.
 * Returns how many closes were numbered; the scan of pending work then finds their events.
 */
export async function queueDueCloses(db: Kysely<Database>): Promise<number> {
  const due = await db
    .selectFrom('events')
    .select('id')
    .where('salesEndAt', '<=', sql<Date>`now()`)
    .where('closeSeq', 'is', null)
    .where('cancelledAt', 'is', null)
    .limit(EVENTS_PER_SWEEP)
    .execute();
  let numbered = 0;
  for (let start = 0; start < due.length; start += EVENTS_PER_TRANSACTION) {
    const eventIds = due.slice(start, start + EVENTS_PER_TRANSACTION).map((row) => row.id);
    numbered += await db.transaction().execute((tx) => numberDueCloses(tx, eventIds));
  }
  return numbered;
}
