import { sql, type RawBuilder } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  insertAcceptedPurchase,
  insertEvent,
  newPurchaseRow,
  useTestDatabase,
} from '@ticketing/shared/testing';
import { applyRound, latestSeq } from '../src/decide/round.js';
import { leaveLine, waitlistHeadQuery } from '../src/decide/waitlist.repository.js';
import { drainEvent } from './support/rounds.js';

const { db } = await useTestDatabase({ poolSize: 2 });

const TICKETS = 10;
/** Confirmed buyers: u-1 with 2 tickets, u-2 … u-9 with one each. */
const CONFIRMED = TICKETS - 1;

/**
 * A sold-out event with `waiting` purchases of one ticket in line (u-10, u-11, …) behind its
 * confirmed ones, written straight into the tables as the worker leaves them (bookings, line numbers
 * from 1, the event's tail): a long line in a second, where deciding it purchase by purchase would
 * take minutes.
 */
async function soldOutEventWithLine(waiting: number) {
  const event = await insertEvent(db, { totalTickets: TICKETS, soldTickets: TICKETS, waitlistTail: waiting });
  await sql`
    with buyer as (
      select g, gen_random_uuid() as id, case when g = 1 then 2 else 1 end as quantity
      from generate_series(1, ${CONFIRMED + waiting}::int) g
    ), purchase as (
      insert into purchases (id, event_id, user_id, quantity, join_waitlist, status, processed_at)
      select id, ${event.id}, 'u-' || g, quantity, true,
        case when g <= ${CONFIRMED} then 'confirmed' else 'waitlisted' end, now()
      from buyer order by g
      returning id, user_id, quantity, substr(user_id, 3)::int as g
    ), booking as (
      insert into bookings (purchase_id, event_id, user_id, quantity, unit_price_cents)
      select id, ${event.id}, user_id, quantity, 100 from purchase where g <= ${CONFIRMED}
    )
    insert into waitlist_entries (purchase_id, event_id, quantity, line_no)
    select id, ${event.id}, 1, g - ${CONFIRMED} from purchase where g > ${CONFIRMED}`.execute(db);
  return event;
}

/** Shared buffers (hit or read) the statement's execution touched, from EXPLAIN (ANALYZE, BUFFERS). */
async function buffersOf(query: RawBuilder<unknown>): Promise<number> {
  const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: Record<string, number> }] }>`
    explain (analyze, buffers, format json) ${query}`.execute(db);
  const plan = rows[0]?.['QUERY PLAN'][0].Plan;
  if (plan === undefined) throw new Error('no plan');
  return (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
}

/** The line's first `promoted` entries taken off it, as promotions leave it (dead index entries and all). */
async function promoteHead(eventId: string, promoted: number): Promise<void> {
  await sql`delete from waitlist_entries where event_id = ${eventId} and line_no <= ${promoted}`.execute(db);
  await sql`update events set waitlist_head = ${promoted} where id = ${eventId}`.execute(db);
}

describe('reading the head of a long waiting list', () => {
  // Buffers, not time: deterministic on a loaded machine. The statement as it was (a join ordered by
  // line number) read every entry of a freshly filled line and its purchase: 95,268 buffers at
  // 19,000 waiting, against a handful now (docs/performance.md).
  it('when the line is 25 times longer, never analysed or analysed, then reading its head reads about as many buffers', async () => {
    // No statistics yet, as in a sale that filled the line since the table was last analysed: the
    // state in which the statement as it was read the whole line. Autovacuum must not take them
    // while the test runs.
    await sql`alter table waitlist_entries set (autovacuum_enabled = false)`.execute(db);
    const short = await soldOutEventWithLine(2_000);
    const long = await soldOutEventWithLine(50_000);
    const reads = async () => {
      const result: Record<string, number> = {};
      for (const [name, event] of [
        ['short', short],
        ['long', long],
      ] as const) {
        result[`${name} one`] = await buffersOf(waitlistHeadQuery(event, 1));
        result[`${name} batch`] = await buffersOf(waitlistHeadQuery(event, 500));
      }
      return result;
    };
    for (const state of ['never analysed', 'analysed']) {
      if (state === 'analysed') await sql`analyze`.execute(db);
      const buffers = await reads();
      // One entry: a descent of each index and a page or two; a batch of 500: a probe of the
      // purchases' key (4 or 5 buffers) per entry.
      expect(buffers['short one'], state).toBeLessThanOrEqual(20);
      expect(buffers['long one'], state).toBeLessThanOrEqual(20);
      expect(buffers['long batch'], state).toBeLessThanOrEqual(1.25 * (buffers['short batch'] ?? 0));
      expect(buffers['long batch'], state).toBeLessThanOrEqual(6 * 500);
    }
  });

  it('when the head has moved past promoted entries, then the read starts after it instead of walking past them', async () => {
    const event = await soldOutEventWithLine(20_000);
    await promoteHead(event.id, 5_000);
    const moved = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(await buffersOf(waitlistHeadQuery(moved, 1))).toBeLessThanOrEqual(20);
    const { rows } = await waitlistHeadQuery(moved, 2).execute(db);
    expect(rows.map((row) => row.lineNo)).toEqual([5_001, 5_002]);
  });

  it('when buyers left the line from its middle, then the head read past their places is still the first entries in order', async () => {
    const event = await soldOutEventWithLine(30);
    const { rows: leaving } = await sql<{ id: string }>`
      select purchase_id as id from waitlist_entries
      where event_id = ${event.id} and line_no between 2 and 9`.execute(db);
    for (const { id } of leaving) await db.transaction().execute((tx) => leaveLine(tx, id));
    const { rows } = await waitlistHeadQuery(event, 10).execute(db);
    expect(rows.map((row) => row.lineNo)).toEqual([1, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
  });
});

describe('a cancellation on a sold-out event with a long line', () => {
  it('when a confirmed purchase of 2 tickets is cancelled, then exactly the first two in line are promoted, in order, and the books add up', async () => {
    const event = await soldOutEventWithLine(50_000);
    const pair = await db
      .selectFrom('purchases')
      .select('id')
      .where('eventId', '=', event.id)
      .where('userId', '=', 'u-1')
      .executeTakeFirstOrThrow();
    await sql`update purchases set cancel_requested_at = now(), cancel_seq = nextval('purchases_seq_seq') where id = ${pair.id}`.execute(
      db,
    );
    const updates = await drainEvent(db, event.id, await latestSeq(db), 100);

    const promoted = updates.filter((update) => update.status === 'confirmed').map((update) => update.id);
    const { rows: firstTwo } = await sql<{ id: string }>`
      select p.id from purchases p where p.event_id = ${event.id} and p.user_id in ('u-10', 'u-11') order by p.user_id`.execute(
      db,
    );
    expect(promoted).toEqual(firstTwo.map((row) => row.id));
    const after = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({
      soldTickets: TICKETS,
      heldTickets: 0,
      waitlistHead: 2,
      waitlistTail: 50_000,
    });
    const { rows: line } = await sql<{ count: number }>`
      select count(*)::int as count from waitlist_entries where event_id = ${event.id}`.execute(db);
    expect(line[0]?.count).toBe(49_998);
  });
});

/** Asks for the cancellation of the purchases, in the order given, as the api does (each a place in the queue). */
async function requestCancellations(ids: readonly string[]): Promise<void> {
  for (const id of ids)
    await sql`update purchases set cancel_requested_at = now(), cancel_seq = nextval('purchases_seq_seq')
      where id = ${id}`.execute(db);
}

async function confirmedOf(eventId: string, userIds: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from purchases where event_id = ${eventId} and user_id = any(${userIds}::text[])
    order by substr(user_id, 3)::int`.execute(db);
  return rows.map((row) => row.id);
}

describe('a burst of cancellations', () => {
  it('when cancellations follow one another in the queue, then one round carries them all out, promoting the line in order', async () => {
    const event = await soldOutEventWithLine(10_000);
    const cancelled = await confirmedOf(event.id, ['u-2', 'u-3', 'u-4', 'u-5', 'u-6']);
    await requestCancellations(cancelled);

    const round = await applyRound(db, [{ eventId: event.id, upToSeq: await latestSeq(db) }], 100);

    // Each cancellation, then the promotion it made, one after the other.
    expect(round.updates.map((update) => [update.id, update.status])).toEqual(
      cancelled.flatMap((id) => [
        [id, 'cancelled'],
        [expect.any(String), 'confirmed'],
      ]),
    );
    const promoted = round.updates
      .filter((update) => update.status === 'confirmed')
      .map((update) => update.id);
    expect(promoted).toEqual(await confirmedOf(event.id, ['u-10', 'u-11', 'u-12', 'u-13', 'u-14']));
    expect(round.promotions).toBe(5);
    const after = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(after).toMatchObject({ soldTickets: TICKETS, waitlistHead: 5 });
  });

  it('when a purchase was accepted between two cancellations, then the round stops before the second, which waits for the purchase to be decided', async () => {
    const event = await soldOutEventWithLine(100);
    const [first, second] = await confirmedOf(event.id, ['u-2', 'u-3']);
    await requestCancellations([first ?? '']);
    const between = await insertAcceptedPurchase(db, newPurchaseRow(event.id, 'between'));
    await requestCancellations([second ?? '']);
    const upToSeq = await latestSeq(db);

    const round = await applyRound(db, [{ eventId: event.id, upToSeq }], 100);
    expect(
      round.updates.filter((update) => update.status === 'cancelled').map((update) => update.id),
    ).toEqual([first]);
    expect(round.unfinished.has(event.id)).toBe(true);

    const rest = await drainEvent(db, event.id, upToSeq, 100);
    // The purchase was decided before the second cancellation freed a ticket: it joined the line.
    expect(rest.map((update) => [update.id, update.status])).toEqual([
      [between.id, 'waitlisted'],
      [second, 'cancelled'],
      [expect.any(String), 'confirmed'],
    ]);
  });
});
