import { unsafeSwitches, type EventRow, type WaitlistEntry, type Tx } from '@ticketing/shared';
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

/**
 * The first `limit` entries of the event's line, in line order. Index lookups however long the line,
 * whatever the planner knows of it:
 * - The entries are sought in a range of line numbers that holds them: every number after the
 *   event's `waitlist_head` up to its tail is either an entry or a departure (migration 0004), so
 *   the first `limit` entries lie within `limit` plus the line's departures (few) of the head. Even
 *   a plan that fetches the range and sorts it reads no more than that; without the bound, a planner
 *   short of statistics on a freshly filled line fetched every entry of it and sorted them to keep
 *   the first few.
 * - Starting after the head also skips the entries promoted before it, deleted but still in the
 *   index until a vacuum, which each round would otherwise walk past again.
 * - Only then is each entry's buyer looked up, one probe of the primary key per entry (a lateral
 *   with a limit); written as a join ordered by line number, the planner joined the whole line first.
 */
export async function waitlistHead(
  tx: Tx,
  event: Pick<EventRow, 'id' | 'waitlistHead'>,
  limit: number,
): Promise<LineEntry[]> {
  const { rows } = await waitlistHeadQuery(event, limit).execute(tx);
  return rows;
}

/** waitlistHead's statement, for the test that reads its plan. */
export function waitlistHeadQuery(event: Pick<EventRow, 'id' | 'waitlistHead'>, limit: number) {
  const departures = sql`(select count(*) from waitlist_departures d
    where d.event_id = ${event.id} and d.line_no > ${event.waitlistHead})`;
  // The negative control promotes from one place behind the head, so its range reaches one further:
  // without that, one freed ticket would promote nobody and the skip would never show.
  const skipHead = unsafeSwitches['waitlist-skips-head'];
  const reach = skipHead ? limit + 1 : limit;
  return sql<LineEntry>`
    select w.purchase_id, w.quantity, w.line_no, p.user_id
    from (
      select purchase_id, quantity, line_no from waitlist_entries
      where event_id = ${event.id} and line_no > ${event.waitlistHead}
        and line_no <= ${event.waitlistHead + reach}::bigint + ${departures}
      order by line_no limit ${limit}${skipHead ? sql` offset 1` : sql``}
    ) w
    cross join lateral (select user_id from purchases where id = w.purchase_id limit 1) p
    order by w.line_no`;
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
  await leaveLines(tx, [purchaseId]);
}

/** Takes entries off their lines wherever they stand, as `leaveLine` does each, in one statement. */
export async function leaveLines(tx: Tx, purchaseIds: readonly string[]): Promise<void> {
  if (purchaseIds.length === 0) return;
  await sql`
    with gone as (
      delete from waitlist_entries where purchase_id = any(${purchaseIds}::uuid[]) returning event_id, line_no
    )
    insert into waitlist_departures (event_id, line_no) select event_id, line_no from gone`.execute(tx);
}

/**
 * Closes an event's line (the sale ended): every entry leaves it, the head moves to the tail and the
 * departures are forgotten. Returns the purchases that were waiting, in line order.
 */
export async function closeLine(tx: Tx, eventId: string): Promise<string[]> {
  const { rows } = await sql<{ purchaseId: string }>`
    with gone as (
      delete from waitlist_entries where event_id = ${eventId} returning purchase_id, line_no
    ), head as (
      update events set waitlist_head = waitlist_tail where id = ${eventId}
    ), passed as (
      delete from waitlist_departures where event_id = ${eventId}
    )
    select purchase_id from gone order by line_no`.execute(tx);
  return rows.map((row) => row.purchaseId);
}
