import { sql, type Transaction } from 'kysely';
import { unsafeSwitches } from '../unsafe-switches.js';
import type { Database } from './database.js';

/**
 * Takes each event's accepting lock, kept until the transaction ends, so that the requests of one
 * event are numbered and committed one transaction at a time. An event's sequence numbers then become visible
 * in order: a worker that sees a request has seen every earlier one. (Without it, two concurrent
 * inserts could commit out of order, and a worker decide the later one first.) Everything that draws
 * a number from the purchase sequence takes it: the api for purchases and cancellations, the worker's
 * sweep for expiries. Taken in id order, so two transactions cannot deadlock; a drain round never
 * takes these locks.
 */
export async function takeAcceptingLocks(
  tx: Transaction<Database>,
  eventIds: readonly string[],
): Promise<void> {
  if (unsafeSwitches['no-accepting-lock']) return;
  const inOrder = [...new Set(eventIds)].sort();
  await sql`
    select pg_advisory_xact_lock(hashtextextended(event_id::text, 0))
    from unnest(${inOrder}::uuid[]) as e(event_id)`.execute(tx);
}

/** The next number of the purchase sequence, as an SQL expression (a request's place in the queue). */
export const nextQueueSeq = () => sql<number>`nextval(pg_get_serial_sequence('purchases', 'seq'))`;
