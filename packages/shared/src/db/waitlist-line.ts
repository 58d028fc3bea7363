import { sql, type RawBuilder } from 'kysely';

/**
 * How a waiting list is read from its line numbers (migration 0004), for the api's reads and the
 * worker's rounds alike. `entry` and `event` name, in the query they go into, a `waitlist_entries` row
 * and its event's `events` row. Each is index lookups: a count of the departures from the middle of
 * the line (rare, and forgotten once the head passes them), never of the line itself.
 */
const departuresBetween = (
  eventId: RawBuilder<unknown>,
  after: RawBuilder<unknown>,
  before?: RawBuilder<unknown>,
) =>
  sql<number>`(select count(*) from waitlist_departures d
    where d.event_id = ${eventId} and d.line_no > ${after}${before === undefined ? sql`` : sql` and d.line_no < ${before}`})`;

/** The entry's place in line: 1 = next to be promoted. */
export function waitlistPosition(entry: string, event: string): RawBuilder<number> {
  const lineNo = sql.raw(`${entry}.line_no`);
  const head = sql.raw(`${event}.waitlist_head`);
  return sql<number>`(${lineNo} - ${head} - ${departuresBetween(sql.raw(`${entry}.event_id`), head, lineNo)})::integer`;
}

/** How many purchases wait in the event's line. */
export function waitlistLength(event: string): RawBuilder<number> {
  const head = sql.raw(`${event}.waitlist_head`);
  return sql<number>`(${sql.raw(`${event}.waitlist_tail`)} - ${head} - ${departuresBetween(sql.raw(`${event}.id`), head)})::integer`;
}
