import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/harness';
import {
  EventQueues,
  createLogger,
  createRedis,
  encodePendingEvents,
  insertAcceptedPurchase,
  insertEvent,
  newPurchaseRow,
  pendingEventsChannel,
  useTestDatabase,
} from '@ticketing/shared/testing';
import { createWorker } from '@ticketing/worker';
import { applyRound } from '../src/decide/round.js';
import { processJob } from './support/rounds.js';

const { db, config, newPool } = await useTestDatabase({ poolSize: 8 });

async function eventWith(totalTickets: number) {
  return insertEvent(db, { totalTickets, priceCents: 700 });
}

const queuedPurchase = (eventId: string, userId: string, quantity = 1) =>
  insertAcceptedPurchase(db, newPurchaseRow(eventId, userId, quantity));

describe('at-least-once jobs', () => {
  it('when the same job runs twice, then it commits once', async () => {
    const event = await eventWith(5);
    const purchase = await queuedPurchase(event.id, 'twice', 2);
    const job = { kind: 'purchase', eventId: event.id, purchaseId: purchase.id, seq: purchase.seq };
    const [update, ...others] = await processJob(db, job);
    expect(others).toEqual([]);
    expect(await processJob(db, job)).toEqual([]);
    const bookings = await db.selectFrom('bookings').selectAll().where('eventId', '=', event.id).execute();
    expect(bookings).toHaveLength(1);
    // The announcement carries exactly what was committed.
    const committed = await db
      .selectFrom('purchases')
      .select('processedAt')
      .where('id', '=', purchase.id)
      .executeTakeFirstOrThrow();
    expect(update).toEqual({
      id: purchase.id,
      status: 'confirmed',
      bookingId: bookings[0]?.id,
      waitlistPosition: null,
      reason: null,
      holdExpiresAt: null,
      processedAt: committed.processedAt?.toISOString(),
    });
    const row = await db
      .selectFrom('events')
      .select('soldTickets')
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(row.soldTickets).toBe(2);
  });

  it('when two workers run the same jobs at once, then each purchase is decided exactly once', async () => {
    const event = await eventWith(3);
    const purchases = [];
    for (let index = 0; index < 6; index += 1)
      purchases.push(await queuedPurchase(event.id, `zombie-${index}`));
    const jobs = purchases.map((purchase) => ({
      kind: 'purchase',
      eventId: event.id,
      purchaseId: purchase.id,
      seq: purchase.seq,
    }));
    const runs = await Promise.all([...jobs, ...jobs].map((job) => processJob(db, job)));
    const decided = runs.flat().map((update) => update.id);
    expect(decided.sort()).toEqual(purchases.map((purchase) => purchase.id).sort());

    const rows = await db
      .selectFrom('purchases')
      .selectAll()
      .where('eventId', '=', event.id)
      .orderBy('seq')
      .execute();
    expect(rows.map((row) => row.status)).toEqual([
      'confirmed',
      'confirmed',
      'confirmed',
      'waitlisted',
      'waitlisted',
      'waitlisted',
    ]);
    const bookings = await db
      .selectFrom('bookings')
      .select('purchaseId')
      .where('eventId', '=', event.id)
      .execute();
    expect(bookings).toHaveLength(3);
  });

  it('when a payload is malformed, then the worker fails its job for good instead of retrying', async () => {
    const event = await eventWith(1);
    const redis = createRedis(config.redisUrl, 'requests');
    const queues = new EventQueues(redis, config.queuePrefix);
    const worker = createWorker({
      config,
      db: newPool(config.workerConcurrency + 2),
      log: createLogger({ level: 'silent', name: 'worker' }),
    });
    try {
      await queues.prepare();
      // A job without its purchase and number, with retries to spare: failing it for good is the worker's call.
      const job = await queues
        .queue(event.id)
        .add('purchase', { kind: 'purchase', eventId: event.id }, { attempts: 5 });
      await worker.start();
      await redis.publish(pendingEventsChannel(config.queuePrefix), encodePendingEvents([event.id]));
      await waitFor('the malformed job to fail', async () => (await job.getState()) === 'failed', 20_000);
      const failed = await queues.queue(event.id).getJob(job.id ?? '');
      expect(failed?.failedReason).toBe('Malformed job payload');
      expect(await queues.queue(event.id).getJobCounts('waiting', 'delayed', 'active')).toEqual({
        waiting: 0,
        delayed: 0,
        active: 0,
      });
    } finally {
      await worker.close();
      await queues.close();
      await redis.quit();
    }
  });
});

describe('database invariants', () => {
  it('when anything tries to sell or hold more than the total, then Postgres refuses', async () => {
    const event = await eventWith(2);
    await expect(
      sql`update events set sold_tickets = total_tickets + 1 where id = ${event.id}`.execute(db),
    ).rejects.toThrow(/events_sold_and_held_within_total/);
    await expect(
      sql`update events set sold_tickets = 1, held_tickets = 2 where id = ${event.id}`.execute(db),
    ).rejects.toThrow(/events_sold_and_held_within_total/);
    await expect(sql`update events set held_tickets = -1 where id = ${event.id}`.execute(db)).rejects.toThrow(
      /events_sold_and_held_within_total/,
    );
  });

  it('when a second booking is written for one purchase, then Postgres refuses', async () => {
    const event = await eventWith(5);
    const purchase = await queuedPurchase(event.id, 'double');
    const booking = {
      purchaseId: purchase.id,
      eventId: event.id,
      userId: 'double',
      quantity: 1,
      unitPriceCents: 700,
    };
    await db.insertInto('bookings').values(booking).execute();
    await expect(db.insertInto('bookings').values(booking).execute()).rejects.toThrow(/duplicate key/);
  });

  it('when a user would have two placed purchases of one event, then Postgres refuses', async () => {
    const event = await eventWith(5);
    const first = await queuedPurchase(event.id, 'same-user');
    const second = await queuedPurchase(event.id, 'same-user');
    await db.updateTable('purchases').set({ status: 'confirmed' }).where('id', '=', first.id).execute();
    await expect(
      db.updateTable('purchases').set({ status: 'waitlisted' }).where('id', '=', second.id).execute(),
    ).rejects.toThrow(/purchases_one_active_per_user/);
  });
});

describe('rounds that know what is already decided', () => {
  async function saleWithQueued(count: number) {
    const event = await eventWith(100);
    const seqs: number[] = [];
    for (let index = 0; index < count; index += 1)
      seqs.push((await queuedPurchase(event.id, `buyer-${index}`)).seq);
    return { eventId: event.id, seqs };
  }

  const statusesOf = async (eventId: string): Promise<string[]> =>
    (
      await db
        .selectFrom('purchases')
        .select('status')
        .where('eventId', '=', eventId)
        .orderBy('seq')
        .execute()
    ).map((row) => row.status);

  it('when a round decides purchases, then it reports the newest one, and the next round starts after it', async () => {
    const { eventId, seqs } = await saleWithQueued(5);
    const upToSeq = seqs[4] ?? 0;

    const first = await applyRound(db, [{ eventId, upToSeq }], 3);
    expect(first.decidedThrough.get(eventId)).toBe(seqs[2]);
    expect(first.unfinished.has(eventId)).toBe(true);

    const second = await applyRound(
      db,
      [{ eventId, upToSeq, decidedThrough: first.decidedThrough.get(eventId) }],
      3,
    );
    expect(second.updates.map((update) => update.status)).toEqual(['confirmed', 'confirmed']);
    expect(second.decidedThrough.get(eventId)).toBe(seqs[4]);
    expect(await statusesOf(eventId)).toEqual(Array(5).fill('confirmed'));
  });

  it('when a purchase sits at or below what a round is told is decided, then only a round told nothing decides it', async () => {
    const { eventId, seqs } = await saleWithQueued(3);
    const upToSeq = seqs[2] ?? 0;

    // A wrong belief hides the first purchase from the search...
    const hinted = await applyRound(db, [{ eventId, upToSeq, decidedThrough: seqs[0] }], 10);
    expect(hinted.updates).toHaveLength(2);
    expect(await statusesOf(eventId)).toEqual(['queued', 'confirmed', 'confirmed']);

    // ...and the scan of Postgres, whose rounds carry no belief, still finds it.
    const fromScan = await applyRound(db, [{ eventId, upToSeq }], 10);
    expect(fromScan.updates).toHaveLength(1);
    expect(await statusesOf(eventId)).toEqual(['confirmed', 'confirmed', 'confirmed']);
  });
});
