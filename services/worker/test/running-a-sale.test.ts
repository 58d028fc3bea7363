import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  insertAcceptedPurchases,
  drawCommitment,
  drawKey,
  insertEvent,
  insertPurchases,
  newDrawSeed,
  newPurchaseRow,
  pauseSale,
  requestClose,
  requestEventCancellation,
  requestResize,
  resumeSale,
  useTestDatabase,
  waitlistLength,
  type EventChange,
  type OutboxRecorder,
  type PurchaseChange,
} from '@ticketing/shared/testing';
import { applyRound, latestSeq } from '../src/decide/round.js';
import { queueDueExpiries } from '../src/holds/expiry-sweep.js';
import { queueDueCloses } from '../src/recovery/due-closes.js';
import { findEventsWithPendingWork } from '../src/recovery/pending-scan.js';
import { purchasesDecidedOnWrongSize } from './controls/resize-books.js';
import { acceptPurchase, untilHoldsPastTime, type PurchaseRequest } from './support/rounds.js';

const { db } = await useTestDatabase({ poolSize: 12 });
const accept = (eventId: string, userId: string, options?: PurchaseRequest) =>
  acceptPurchase(db, eventId, userId, options);

/** What rounds recorded for webhooks, in order. */
class RecordingOutbox implements OutboxRecorder {
  readonly changes: PurchaseChange[] = [];
  readonly eventChanges: EventChange[] = [];
  record(_tx: unknown, changes: readonly PurchaseChange[]): Promise<void> {
    this.changes.push(...changes);
    return Promise.resolve();
  }
  recordEventChanges(_tx: unknown, changes: readonly EventChange[]): Promise<void> {
    this.eventChanges.push(...changes);
    return Promise.resolve();
  }
}

/** Rounds until the event has nothing left up to everything accepted so far; returns how many. */
async function drainAll(eventId: string, outbox?: OutboxRecorder, batchSize = 100): Promise<number> {
  const upToSeq = await latestSeq(db);
  for (let rounds = 1; ; rounds++) {
    const outcome = await applyRound(db, [{ eventId, upToSeq }], batchSize, outbox);
    if (!outcome.unfinished.has(eventId)) return rounds;
  }
}

async function statuses(eventId: string): Promise<Record<string, string>> {
  const rows = await db
    .selectFrom('purchases')
    .select(['userId', 'status', 'reason'])
    .where('eventId', '=', eventId)
    .execute();
  return Object.fromEntries(
    rows.map((row) => [row.userId, row.reason === null ? row.status : `${row.status}:${row.reason}`]),
  );
}

async function figures(eventId: string) {
  return db
    .selectFrom('events')
    .select(['totalTickets', 'soldTickets', 'heldTickets'])
    .select(waitlistLength('events').as('waiting'))
    .where('id', '=', eventId)
    .executeTakeFirstOrThrow();
}

async function postgresIn(ms: number): Promise<Date> {
  const { rows } = await sql<{ at: Date }>`
    select clock_timestamp() + make_interval(secs => ${ms / 1000}) as at`.execute(db);
  return rows[0]!.at;
}

async function untilPostgres(at: Date): Promise<void> {
  for (;;) {
    const { rows } = await sql<{ past: boolean }>`select clock_timestamp() >= ${at} as past`.execute(db);
    if (rows[0]?.past === true) return;
    await sleep(50);
  }
}

describe('a resize in queue order', () => {
  it('when tickets are added, then the waiting list gets them first, in line order, and only the rest goes to the public', async () => {
    const event = await insertEvent(db, { totalTickets: 2 });
    await accept(event.id, 'a');
    await accept(event.id, 'b');
    await accept(event.id, 'w1');
    await accept(event.id, 'w2', { quantity: 2 });
    await accept(event.id, 'w3');
    await drainAll(event.id);
    expect(await figures(event.id)).toMatchObject({ soldTickets: 2, waiting: 3 });

    const resize = await db.transaction().execute((tx) => requestResize(tx, event.id, 7));
    expect(resize).toMatchObject({ totalTickets: 7, appliedTotal: null });
    await accept(event.id, 'public', { joinWaitlist: false });
    await accept(event.id, 'late', { joinWaitlist: false });
    const outbox = new RecordingOutbox();
    await drainAll(event.id, outbox);

    expect(outbox.changes.map((change) => change.status)).toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
      'confirmed',
      'rejected',
    ]);
    expect(outbox.changes.slice(0, 3).every((change) => change.promoted === true)).toBe(true);
    expect(await statuses(event.id)).toEqual({
      a: 'confirmed',
      b: 'confirmed',
      w1: 'confirmed',
      w2: 'confirmed',
      w3: 'confirmed',
      public: 'confirmed',
      late: 'rejected:sold_out',
    });
    expect(await figures(event.id)).toEqual({ totalTickets: 7, soldTickets: 7, heldTickets: 0, waiting: 0 });
    const applied = await db
      .selectFrom('eventResizes')
      .selectAll()
      .where('seq', '=', resize.seq)
      .executeTakeFirstOrThrow();
    expect(applied.appliedTotal).toBe(7);
    expect(applied.appliedAt).not.toBeNull();
    expect(outbox.eventChanges).toEqual([
      {
        type: 'event.updated',
        eventId: event.id,
        data: {
          eventId: event.id,
          totalTickets: 7,
          soldTickets: 6,
          heldTickets: 0,
          availableTickets: 1,
          saleState: 'on_sale',
        },
      },
    ]);
  });

  it('when tickets are added to an event with holds, then the line is promoted to holds', async () => {
    const event = await insertEvent(db, { totalTickets: 1, holdSeconds: 600 });
    await accept(event.id, 'a');
    await accept(event.id, 'w1');
    await drainAll(event.id);
    await db.transaction().execute((tx) => requestResize(tx, event.id, 2));
    await drainAll(event.id);
    expect(await statuses(event.id)).toEqual({ a: 'held', w1: 'held' });
    expect(await figures(event.id)).toMatchObject({ totalTickets: 2, heldTickets: 2, waiting: 0 });
  });

  it('when tickets are taken away, then purchases before the resize see the old total and those after the new one, which never goes below sold and held', async () => {
    const event = await insertEvent(db, { totalTickets: 10 });
    for (const user of ['a', 'b', 'c', 'd']) await accept(event.id, user, { joinWaitlist: false });
    // Asked for with nothing sold yet; by its turn the four before it took 4 tickets.
    await db.transaction().execute((tx) => requestResize(tx, event.id, 2));
    await accept(event.id, 'e', { joinWaitlist: false });
    const outbox = new RecordingOutbox();
    await drainAll(event.id, outbox);
    expect(await statuses(event.id)).toEqual({
      a: 'confirmed',
      b: 'confirmed',
      c: 'confirmed',
      d: 'confirmed',
      e: 'rejected:sold_out',
    });
    expect(await figures(event.id)).toMatchObject({ totalTickets: 4, soldTickets: 4 });
    expect(outbox.eventChanges.map((change) => change.data)).toEqual([
      expect.objectContaining({ totalTickets: 4, availableTickets: 0 }),
    ]);

    await db.transaction().execute((tx) => requestResize(tx, event.id, 5));
    await db.transaction().execute((tx) => requestResize(tx, event.id, 6));
    await accept(event.id, 'f', { joinWaitlist: false });
    await accept(event.id, 'g', { joinWaitlist: false });
    await accept(event.id, 'h', { joinWaitlist: false });
    await drainAll(event.id);
    expect(await statuses(event.id)).toMatchObject({
      f: 'confirmed',
      g: 'confirmed',
      h: 'rejected:sold_out',
    });
    expect(await figures(event.id)).toMatchObject({ totalTickets: 6, soldTickets: 6 });
  });

  it('when a resize races a burst of purchases, then every purchase numbered before it is decided on the old total and every one after on the new', async () => {
    const event = await insertEvent(db, { totalTickets: 10, maxPerPurchase: 3 });
    const burst = (from: number) =>
      insertAcceptedPurchases(
        db,
        Array.from({ length: 10 }, (_, index) => ({
          ...newPurchaseRow(event.id, `u${from + index}`, 1 + ((from + index) % 2)),
          joinWaitlist: false,
        })),
      );
    const [resize] = await Promise.all([
      (async () => {
        await sleep(5);
        return db.transaction().execute((tx) => requestResize(tx, event.id, 25));
      })(),
      ...Array.from({ length: 8 }, (_, index) => burst(index * 10)),
    ]);
    // Decided in several rounds, some of which stop at the resize.
    await drainAll(event.id, undefined, 7);

    const bySeq = await db
      .selectFrom('purchases')
      .select(['seq', 'status'])
      .where('eventId', '=', event.id)
      .execute();
    expect(bySeq.some((purchase) => purchase.status === 'queued')).toBe(false);
    expect(await purchasesDecidedOnWrongSize(db, event.id, 10)).toEqual([]);
    const confirmedAfter = bySeq.filter((p) => p.seq > resize.seq && p.status === 'confirmed');
    const confirmedBefore = bySeq.filter((p) => p.seq < resize.seq && p.status === 'confirmed');
    expect(await figures(event.id)).toMatchObject({ totalTickets: 25 });
    // The old total held the purchases before it; the new one, if any came after, took more.
    expect(confirmedBefore.length).toBeGreaterThan(0);
    if (bySeq.some((p) => p.seq > resize.seq)) expect(confirmedAfter.length).toBeGreaterThan(0);
  });
});

describe('a pause', () => {
  it('when paused, then nothing is decided, holds run out without promotion, and the resume promotes first, then decides in queue order', async () => {
    const event = await insertEvent(db, { totalTickets: 2, holdSeconds: 1 });
    await accept(event.id, 'holder', { quantity: 2 });
    const w1 = await accept(event.id, 'w1');
    await drainAll(event.id);
    expect(await statuses(event.id)).toEqual({ holder: 'held', w1: 'waitlisted' });

    expect(await db.transaction().execute((tx) => pauseSale(tx, event.id))).toBe(true);
    expect(await db.transaction().execute((tx) => pauseSale(tx, event.id))).toBe(false);
    await accept(event.id, 'p1');
    await accept(event.id, 'p2');
    const idle = await applyRound(db, [{ eventId: event.id, upToSeq: await latestSeq(db) }], 100);
    expect(idle.updates).toEqual([]);
    expect(idle.unfinished.has(event.id)).toBe(false);
    expect(idle.progress).toEqual([]);
    expect(await findEventsWithPendingWork(db)).not.toContain(event.id);

    await untilHoldsPastTime(db, event.id);
    expect(await queueDueExpiries(db)).toBeGreaterThanOrEqual(1);
    expect(await findEventsWithPendingWork(db)).toContain(event.id);
    await drainAll(event.id);
    expect(await statuses(event.id)).toEqual({
      holder: 'expired',
      w1: 'waitlisted',
      p1: 'queued',
      p2: 'queued',
    });
    expect(await figures(event.id)).toMatchObject({ soldTickets: 0, heldTickets: 0, waiting: 1 });
    expect(await findEventsWithPendingWork(db)).not.toContain(event.id);

    expect(await db.transaction().execute((tx) => resumeSale(tx, event.id))).toBe(true);
    expect(await findEventsWithPendingWork(db)).toContain(event.id);
    const outbox = new RecordingOutbox();
    await drainAll(event.id, outbox);
    // The line first, before any purchase accepted during the pause.
    expect(outbox.changes[0]).toMatchObject({ purchaseId: w1.id, status: 'held', promoted: true });
    expect(outbox.changes).toHaveLength(3);
    expect(await statuses(event.id)).toEqual({ holder: 'expired', w1: 'held', p1: 'held', p2: 'waitlisted' });
  });
});

describe('a close', () => {
  it('when closed with a waiting list and live holds, then the purchases before it are decided, the line is rejected, holds run on and freed tickets are not sold', async () => {
    const event = await insertEvent(db, { totalTickets: 2, holdSeconds: 1 });
    await accept(event.id, 'h1');
    await accept(event.id, 'h2');
    await accept(event.id, 'w1');
    await drainAll(event.id);
    await accept(event.id, 'q1');
    await db.transaction().execute((tx) => pauseSale(tx, event.id));
    const closeSeq = await db.transaction().execute((tx) => requestClose(tx, event.id));
    expect(closeSeq).toBeGreaterThan(0);
    expect(await db.transaction().execute((tx) => requestClose(tx, event.id))).toBe(closeSeq);
    const refused = await insertAcceptedPurchases(db, [newPurchaseRow(event.id, 'late')]);
    expect(refused).toEqual([]);
    expect(await findEventsWithPendingWork(db)).toContain(event.id);

    const outbox = new RecordingOutbox();
    await drainAll(event.id, outbox);
    expect(outbox.changes.map((change) => `${change.status}:${change.reason ?? ''}`)).toEqual([
      'waitlisted:',
      'rejected:sale_ended',
      'rejected:sale_ended',
    ]);
    expect(await statuses(event.id)).toEqual({
      h1: 'held',
      h2: 'held',
      w1: 'rejected:sale_ended',
      q1: 'rejected:sale_ended',
    });
    const closed = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(closed.closedAt).not.toBeNull();
    expect(closed.pausedAt).toBeNull();
    expect(outbox.eventChanges).toEqual([
      expect.objectContaining({ type: 'event.ended', data: expect.objectContaining({ saleState: 'ended' }) }),
    ]);
    expect(await figures(event.id)).toMatchObject({ heldTickets: 2, waiting: 0 });

    // A hold confirmed after the close (as the api does), the other runs out: its ticket is not sold again.
    await sql`
      with confirmed as (update purchases set status = 'confirmed' where event_id = ${event.id} and user_id = 'h1'
        returning id, event_id, user_id, quantity)
      insert into bookings (purchase_id, event_id, user_id, quantity, unit_price_cents)
      select id, event_id, user_id, quantity, 100 from confirmed`.execute(db);
    await sql`update events set held_tickets = held_tickets - 1, sold_tickets = sold_tickets + 1
      where id = ${event.id}`.execute(db);
    await untilHoldsPastTime(db, event.id);
    expect(await queueDueExpiries(db)).toBeGreaterThanOrEqual(1);
    await drainAll(event.id);
    expect(await statuses(event.id)).toMatchObject({ h1: 'confirmed', h2: 'expired' });
    expect(await figures(event.id)).toMatchObject({ soldTickets: 1, heldTickets: 0, waiting: 0 });
    expect(await findEventsWithPendingWork(db)).not.toContain(event.id);
  });

  it('when the sale end passes by itself, then the scan gives it its close and the waiting list is rejected', async () => {
    const event = await insertEvent(db, { totalTickets: 1, salesEndAt: await postgresIn(1_500) });
    await accept(event.id, 'a');
    await accept(event.id, 'w1');
    await drainAll(event.id);
    expect(await queueDueCloses(db)).toBe(0);
    await untilPostgres(event.salesEndAt!);
    expect(await queueDueCloses(db)).toBe(1);
    expect(await queueDueCloses(db)).toBe(0);
    expect(await findEventsWithPendingWork(db)).toContain(event.id);
    await drainAll(event.id);
    expect(await statuses(event.id)).toEqual({ a: 'confirmed', w1: 'rejected:sale_ended' });
    const closed = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(closed.closedAt).not.toBeNull();
    expect(await findEventsWithPendingWork(db)).not.toContain(event.id);
  });
});

describe('an event cancellation', () => {
  it('when an event with 20,000 purchases in every state is cancelled, then every one ends cancelled in batches, tickets return and bookings are cancelled', async () => {
    const seed = newDrawSeed();
    const event = await insertEvent(db, {
      totalTickets: 3_000,
      holdSeconds: 600,
      priceCents: 250,
      salesStartAt: await postgresIn(2_000),
      drawSeed: seed,
      drawCommitment: drawCommitment(seed),
    });
    const prequeued = await insertAcceptedPurchases(
      db,
      Array.from({ length: 12_000 }, (_, index) => {
        const purchase = newPurchaseRow(event.id, `pre${index}`);
        return { ...purchase, drawKey: drawKey(seed, purchase.id) };
      }),
    );
    expect(prequeued.every((purchase) => purchase.status === 'prequeued')).toBe(true);
    await untilPostgres(event.salesStartAt!);
    // Part of the draw: 3,000 held, 4,000 waiting; 5,000 still pre-queued.
    const upToSeq = await latestSeq(db);
    await applyRound(db, [{ eventId: event.id, upToSeq }], 3_000);
    await applyRound(db, [{ eventId: event.id, upToSeq }], 4_000);
    // Half the holds paid for, as the api confirms them.
    await sql`
      with paid as (
        update purchases set status = 'confirmed'
        where id in (select id from purchases where event_id = ${event.id} and status = 'held' limit 1500)
        returning id, event_id, user_id, quantity
      )
      insert into bookings (purchase_id, event_id, user_id, quantity, unit_price_cents)
      select id, event_id, user_id, quantity, 250 from paid`.execute(db);
    await sql`update events set held_tickets = 1500, sold_tickets = 1500 where id = ${event.id}`.execute(db);
    await insertAcceptedPurchases(
      db,
      Array.from({ length: 8_000 }, (_, index) => newPurchaseRow(event.id, `q${index}`)),
    );
    const counts = async () =>
      Object.fromEntries(
        (
          await db
            .selectFrom('purchases')
            .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
            .where('eventId', '=', event.id)
            .groupBy('status')
            .execute()
        ).map((row) => [row.status, Number(row.count)]),
      );
    expect(await counts()).toEqual({
      prequeued: 5_000,
      held: 1_500,
      confirmed: 1_500,
      waitlisted: 4_000,
      queued: 8_000,
    });

    expect(
      await db.transaction().execute((tx) => requestEventCancellation(tx, event.id, 'Venue flooded')),
    ).toBe(true);
    expect(await db.transaction().execute((tx) => requestEventCancellation(tx, event.id, 'Again'))).toBe(
      false,
    );
    const refused = await db
      .transaction()
      .execute((tx) => insertPurchases(tx, [newPurchaseRow(event.id, 'late')]));
    expect(refused).toEqual([expect.objectContaining({ kind: 'refused', refusal: 'event_cancelled' })]);
    expect(await findEventsWithPendingWork(db)).toContain(event.id);

    const outbox = new RecordingOutbox();
    // Batches of a thousand: 20 full ones and the short one that finishes it.
    expect(await drainAll(event.id, outbox)).toBe(21);
    expect(await counts()).toEqual({ cancelled: 20_000 });
    expect(outbox.changes).toHaveLength(20_000);
    expect(outbox.changes.every((change) => change.reason === 'event_cancelled')).toBe(true);
    const reasons = await db
      .selectFrom('purchases')
      .select('reason')
      .distinct()
      .where('eventId', '=', event.id)
      .execute();
    expect(reasons).toEqual([{ reason: 'event_cancelled' }]);
    expect(await figures(event.id)).toEqual({
      totalTickets: 3_000,
      soldTickets: 0,
      heldTickets: 0,
      waiting: 0,
    });
    const bookings = await db
      .selectFrom('bookings')
      .select([
        (eb) => eb.fn.countAll<number>().as('count'),
        sql<number>`count(*) filter (where cancelled_at is null)::integer`.as('active'),
        sql<number>`sum(quantity * unit_price_cents)::integer`.as('refundDue'),
      ])
      .where('eventId', '=', event.id)
      .executeTakeFirstOrThrow();
    expect({ ...bookings, count: Number(bookings.count) }).toEqual({
      count: 1_500,
      active: 0,
      refundDue: 375_000,
    });
    const cancelled = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(cancelled.cancellationFinishedAt).not.toBeNull();
    expect(cancelled.cancellationReason).toBe('Venue flooded');
    expect(await findEventsWithPendingWork(db)).not.toContain(event.id);
    const after = await applyRound(db, [{ eventId: event.id, upToSeq: await latestSeq(db) }], 100);
    expect(after.updates).toEqual([]);
    expect(after.unfinished.has(event.id)).toBe(false);
  }, 120_000);
});
