import { unsafeSwitches, type WaitlistEntry, type Tx } from '@ticketing/shared';
import { sql } from 'kysely';

/**
 * Appends purchases to the tails of their events' waiting lists, in the order given: each takes its
 * event's next line number, and the event's tail moves past them, in one statement.
 */
export async function appendToWaitlists(
  tx: Tx,
  entries: readonly { purchaseId: string; eventId: string; quantity: number }[],
): Promise<void> {
  if (entries.length === 0) return;
  await sql`
    with entry as (
      select * from unnest(
        ${entries.map((entry) => entry.purchaseId)}::uuid[],
        ${entries.map((entry) => entry.eventId)}::uuid[],
        ${entries.map((entry) => entry.quantity)}::integer[]
      ) with ordinality as entry(purchase_id, event_id, quantity, n)
    ), tail as (
      update events e set waitlist_tail = e.waitlist_tail + joining.entries
      from (select event_id, count(*) as entries from entry group by event_id) joining
      where e.id = joining.event_id
      returning e.id as event_id, e.waitlist_tail - joining.entries as last_before
    )
    insert into waitlist_entries (purchase_id, event_id, quantity, line_no)
    select entry.purchase_id, entry.event_id, entry.quantity,
      tail.last_before + row_number() over (partition by entry.event_id order by entry.n)
    from entry join tail using (event_id)`.execute(tx);
}

export type LineEntry = WaitlistEntry & { readonly userId: string; readonly lineNo: number };

/** The first entries of the waiting list, in line order. */
export async function waitlistHead(tx: Tx, eventId: string, limit: number): Promise<LineEntry[]> {
  return tx
    .selectFrom('waitlistEntries as w')
    .innerJoin('purchases as p', 'p.id', 'w.purchaseId')
    .select(['w.purchaseId', 'w.quantity', 'w.lineNo', 'p.userId'])
    .where('w.eventId', '=', eventId)
    .orderBy('w.lineNo')
    .limit(limit)
    .$if(unsafeSwitches['waitlist-skips-head'], (query) => query.offset(1))
    .execute();
}

/**
 * Takes the first entries of an event's line off it (they were promoted): the head of the line moves
 * to the last of them, and departures it passes are forgotten. They must be the line's first entries.
 */
export async function removeLineHead(tx: Tx, eventId: string, first: readonly LineEntry[]): Promise<void> {
  const last = first.at(-1);
  if (last === undefined) return;
  const { rows } = await sql<{ removed: number }>`
    with gone as (
      delete from waitlist_entries
      where event_id = ${eventId} and purchase_id = any(${first.map((entry) => entry.purchaseId)}::uuid[])
        and line_no <= ${last.lineNo}
      returning 1
    ), head as (
      update events set waitlist_head = ${last.lineNo} where id = ${eventId} and waitlist_head < ${last.lineNo}
    ), passed as (
      delete from waitlist_departures where event_id = ${eventId} and line_no <= ${last.lineNo}
    )
    select count(*)::integer as removed from gone`.execute(tx);
  if (rows[0]?.removed !== first.length) {
    throw new Error(
      `Expected to take ${first.length} entries off the head of the line, took ${rows[0]?.removed}`,
    );
  }
}

/**
 * Takes one entry off the middle of its line (a waiting purchase cancelled): its line number is kept
 * as a departure, so that those behind it count one fewer ahead of them.
 */
export async function leaveLine(tx: Tx, purchaseId: string): Promise<void> {
  await sql`
    with gone as (delete from waitlist_entries where purchase_id = ${purchaseId} returning event_id, line_no)
    insert into waitlist_departures (event_id, line_no) select event_id, line_no from gone`.execute(tx);
}
