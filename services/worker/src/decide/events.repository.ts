import type { EventRow } from '@ticketing/shared';
import { sql } from 'kysely';
import type { Tx } from './tx.js';

/**
 * Takes the events' row locks for the rest of the transaction, always in id order so two workers
 * cannot deadlock. Every decision about an event happens under this lock, so two workers (say, one
 * that lost its lease and did not notice) can never interleave their decisions about one event. It is
 * the no-key kind: the api's purchase inserts (whose foreign key takes a key-share lock on the event)
 * are not held up while a worker decides.
 */
export async function lockEvents(tx: Tx, eventIds: readonly string[]): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  return tx
    .selectFrom('events')
    .selectAll()
    .where('id', '=', (eb) => eb.fn.any(eb.val(eventIds)))
    .orderBy('id')
    .forNoKeyUpdate()
    .execute();
}

export async function lockEvent(tx: Tx, eventId: string): Promise<EventRow | undefined> {
  const [event] = await lockEvents(tx, [eventId]);
  return event;
}

/**
 * Adds sold tickets to events. The conditional update is the last line of defence against
 * overselling (with the table's CHECK behind it): if any event would go over, nothing commits.
 */
export async function addSoldTickets(
  tx: Tx,
  sales: readonly { eventId: string; tickets: number }[],
): Promise<void> {
  if (sales.length === 0) return;
  const result = await sql`
    update events e set sold_tickets = e.sold_tickets + s.tickets
    from unnest(
      ${sales.map((sale) => sale.eventId)}::uuid[], ${sales.map((sale) => sale.tickets)}::integer[]
    ) as s(event_id, tickets)
    where e.id = s.event_id and e.sold_tickets + s.tickets <= e.total_tickets`.execute(tx);
  if (result.numAffectedRows !== BigInt(sales.length)) {
    throw new Error(`Refusing to oversell: ${sales.length} sales, ${result.numAffectedRows} fit`);
  }
}

/** Gives an event back tickets a cancelled booking held. */
export async function removeSoldTickets(tx: Tx, eventId: string, tickets: number): Promise<void> {
  await tx
    .updateTable('events')
    .set((eb) => ({ soldTickets: eb('soldTickets', '-', tickets) }))
    .where('id', '=', eventId)
    .execute();
}
