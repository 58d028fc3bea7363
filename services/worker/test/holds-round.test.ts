import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { insertEvent, isDueHold, useTestDatabase } from '@ticketing/shared/testing';
import { latestSeq } from '../src/decide/round.js';
import { acceptPurchase, drainEvent, untilHoldsPastTime, type PurchaseRequest } from './support/rounds.js';
import { queueDueExpiries } from '../src/holds/expiry-sweep.js';

const { db } = await useTestDatabase({ poolSize: 8 });
const accept = (eventId: string, userId: string, options?: PurchaseRequest) =>
  acceptPurchase(db, eventId, userId, options);

async function eventWith(totalTickets: number, holdSeconds: number) {
  return insertEvent(db, { totalTickets, holdSeconds });
}

const drainAll = async (eventId: string) => drainEvent(db, eventId, await latestSeq(db), 100);

async function statuses(eventId: string): Promise<Record<string, string>> {
  const rows = await db
    .selectFrom('purchases')
    .select(['userId', 'status'])
    .where('eventId', '=', eventId)
    .execute();
  return Object.fromEntries(rows.map((row) => [row.userId, row.status]));
}

async function tickets(eventId: string) {
  return db
    .selectFrom('events')
    .select(['soldTickets', 'heldTickets'])
    .where('id', '=', eventId)
    .executeTakeFirstOrThrow();
}

describe('expiries in queue order', () => {
  it('when purchases come before and after a hold expires, then those before see it held and those after get its tickets', async () => {
    const event = await eventWith(1, 1);
    await accept(event.id, 'holder');
    await drainAll(event.id);
    expect(await tickets(event.id)).toEqual({ soldTickets: 0, heldTickets: 1 });

    // Accepted while the hold stands, decided only later, together with the expiry and what follows.
    await accept(event.id, 'before', { joinWaitlist: false });
    await untilHoldsPastTime(db, event.id);
    expect(await queueDueExpiries(db)).toBe(1);
    await accept(event.id, 'after', { joinWaitlist: false });
    const updates = await drainAll(event.id);

    expect(await statuses(event.id)).toEqual({ holder: 'expired', before: 'rejected', after: 'held' });
    expect(updates.map((update) => update.status)).toEqual(['rejected', 'expired', 'held']);
    expect(updates.at(-1)?.holdExpiresAt).not.toBeNull();
    expect(await tickets(event.id)).toEqual({ soldTickets: 0, heldTickets: 1 });
  });

  it('when holds expire, then the waiting list is promoted strictly in order while its head fits, each promotion held in turn', async () => {
    const event = await eventWith(2, 1);
    await accept(event.id, 'a');
    await drainAll(event.id);
    await accept(event.id, 'b');
    await drainAll(event.id);
    await accept(event.id, 'big', { quantity: 2 }); // the head of the line: needs both tickets
    await accept(event.id, 'small'); // would fit in one, but waits behind the head
    await drainAll(event.id);
    expect(await statuses(event.id)).toMatchObject({
      a: 'held',
      b: 'held',
      big: 'waitlisted',
      small: 'waitlisted',
    });

    // Only a's hold is due (time passes for it alone): one ticket free, the head does not fit, and
    // nobody behind it skips ahead.
    const runOut = (userId: string, at: ReturnType<typeof sql<Date>>) =>
      db
        .updateTable('purchases')
        .set({ holdExpiresAt: at })
        .where('eventId', '=', event.id)
        .where('userId', '=', userId)
        .execute();
    await runOut('a', sql<Date>`now()`);
    await runOut('b', sql<Date>`now() + interval '1 hour'`);
    expect(await queueDueExpiries(db)).toBe(1);
    await drainAll(event.id);
    expect(await statuses(event.id)).toMatchObject({
      a: 'expired',
      b: 'held',
      big: 'waitlisted',
      small: 'waitlisted',
    });
    expect(await tickets(event.id)).toEqual({ soldTickets: 0, heldTickets: 1 });

    await runOut('b', sql<Date>`now()`);
    expect(await queueDueExpiries(db)).toBe(1);
    await drainAll(event.id);
    expect(await statuses(event.id)).toMatchObject({ b: 'expired', big: 'held', small: 'waitlisted' });
    expect(await tickets(event.id)).toEqual({ soldTickets: 0, heldTickets: 2 });
  });
});

describe('the sweep of due holds', () => {
  it('when several workers sweep at once, then each due hold gets one number, shared by the holds of one event found together', async () => {
    const event = await eventWith(10, 1);
    for (const user of ['s1', 's2', 's3', 'cancelling']) await accept(event.id, user);
    await drainAll(event.id);
    // A hold whose cancellation is on its way is left to the cancellation.
    await db
      .updateTable('purchases')
      .set({
        cancelRequestedAt: new Date(),
        cancelSeq: sql`nextval(pg_get_serial_sequence('purchases', 'seq'))`,
      })
      .where('userId', '=', 'cancelling')
      .execute();
    await untilHoldsPastTime(db, event.id);

    // Sweeps see every event of the database: earlier tests left holds past their time too.
    const due = await db
      .selectFrom('purchases')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where(isDueHold)
      .executeTakeFirstOrThrow();
    const swept = await Promise.all(Array.from({ length: 4 }, () => queueDueExpiries(db)));
    expect(swept.reduce((sum, count) => sum + count, 0)).toBe(due.count);
    const numbered = await db
      .selectFrom('purchases')
      .select(['userId', 'expireSeq'])
      .where('eventId', '=', event.id)
      .orderBy('userId')
      .execute();
    const seqs = new Set(numbered.filter((row) => row.userId !== 'cancelling').map((row) => row.expireSeq));
    expect(seqs.size).toBe(1);
    expect([...seqs][0]).not.toBeNull();
    expect(numbered.find((row) => row.userId === 'cancelling')?.expireSeq).toBeNull();
    expect(await queueDueExpiries(db)).toBe(0);

    await drainAll(event.id);
    expect(await statuses(event.id)).toEqual({
      s1: 'expired',
      s2: 'expired',
      s3: 'expired',
      cancelling: 'cancelled',
    });
    expect(await tickets(event.id)).toEqual({ soldTickets: 0, heldTickets: 0 });
    // Draining again changes nothing: an expiry carried out is not carried out twice.
    expect(await drainAll(event.id)).toEqual([]);
    expect(await tickets(event.id)).toEqual({ soldTickets: 0, heldTickets: 0 });
  });

  it('when an event has no holds, then its purchases are confirmed at once and nothing is ever swept', async () => {
    const event = await eventWith(2, 0);
    await accept(event.id, 'plain');
    const updates = await drainAll(event.id);
    expect(updates).toMatchObject([{ status: 'confirmed', holdExpiresAt: null }]);
    expect(await tickets(event.id)).toEqual({ soldTickets: 1, heldTickets: 0 });
    expect(await queueDueExpiries(db)).toBe(0);
  });
});
