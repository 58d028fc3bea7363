import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EventQueues,
  createLogger,
  createRedis,
  encodePendingEvents,
  pendingEventsChannel,
  insertAcceptedPurchase,
  insertEvent,
  newPurchaseRow,
  pauseSale,
  resumeSale,
  useTestDatabase,
  waitUntilNothingQueued,
} from '@ticketing/shared/testing';
import { createWorker, type TicketingWorker } from '@ticketing/worker';

const { db, environment, newPool } = await useTestDatabase({
  poolSize: 4,
  env: { RECONCILE_AFTER_MS: '0' },
});
const workerDb = newPool(environment.config.workerConcurrency + 2);
const redis = createRedis(environment.config.redisUrl, 'requests');
const queues = new EventQueues(redis, environment.config.queuePrefix);
let worker: TicketingWorker | undefined;
afterAll(async () => {
  await worker?.close();
  await queues.close();
  await redis.quit();
});

describe('a paused sale in a running worker', () => {
  it('when purchases with jobs arrive during a pause, then their jobs complete undecided, nothing re-enqueues them, and the resume decides them', async () => {
    const event = await insertEvent(db, { totalTickets: 2 });
    await db.transaction().execute((tx) => pauseSale(tx, event.id));
    worker = createWorker({
      config: environment.config,
      db: workerDb,
      log: createLogger({ level: 'silent', name: 'worker' }),
    });
    await worker.start();
    await queues.prepare();
    for (const userId of ['a', 'b', 'c']) {
      const purchase = await insertAcceptedPurchase(db, newPurchaseRow(event.id, userId));
      await queues.enqueue({
        kind: 'purchase',
        eventId: event.id,
        purchaseId: purchase.id,
        seq: purchase.seq,
      });
    }
    // As the api announces its jobs.
    await redis.publish(
      pendingEventsChannel(environment.config.queuePrefix),
      encodePendingEvents([event.id]),
    );
    const queue = queues.queue(event.id);
    // Completed jobs are removed: done when none is left waiting or running.
    const inHand = async () =>
      Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce(
        (sum, count) => sum + count,
        0,
      );
    for (let waited = 0; (await inHand()) > 0; waited += 50) {
      expect(waited).toBeLessThan(20_000);
      await sleep(50);
    }
    // Jobs done, nothing decided, and no job made again for purchases that wait by design.
    expect(await worker.reconcileNow()).toBe(0);
    const waiting = await db
      .selectFrom('purchases')
      .select('status')
      .where('eventId', '=', event.id)
      .execute();
    expect(waiting.map((row) => row.status)).toEqual(['queued', 'queued', 'queued']);

    await db.transaction().execute((tx) => resumeSale(tx, event.id));
    // No job: the scan of Postgres finds the resumed event.
    await waitUntilNothingQueued(db, event.id, 20_000);
    const decided = await db
      .selectFrom('purchases')
      .select(['userId', 'status'])
      .where('eventId', '=', event.id)
      .orderBy('seq')
      .execute();
    expect(decided).toEqual([
      { userId: 'a', status: 'confirmed' },
      { userId: 'b', status: 'confirmed' },
      { userId: 'c', status: 'waitlisted' },
    ]);
  });
});
