import { afterAll, describe, expect, it } from 'vitest';
import {
  EventQueues,
  createLogger,
  createRedis,
  insertAcceptedPurchase,
  insertEvent,
  newPurchaseRow,
  useTestDatabase,
  waitUntilNothingQueued,
  type PurchaseRow,
} from '@ticketing/shared/testing';
import { createWorker, type TicketingWorker } from '@ticketing/worker';

const { db, environment, newPool } = await useTestDatabase({
  poolSize: 4,
  env: { RECONCILE_AFTER_MS: '0' },
});
const workerDb = newPool(environment.config.workerConcurrency + 2);
let worker: TicketingWorker | undefined;
afterAll(async () => {
  await worker?.close();
});

/** Purchases as the api accepts them, one request at a time: stored, then enqueued. */
async function accept(eventId: string, userIds: readonly string[]): Promise<PurchaseRow[]> {
  const redis = createRedis(environment.config.redisUrl, 'requests');
  const queues = new EventQueues(redis, environment.config.queuePrefix);
  try {
    await queues.prepare();
    const accepted: PurchaseRow[] = [];
    for (const userId of userIds) {
      const purchase = await insertAcceptedPurchase(db, newPurchaseRow(eventId, userId));
      await queues.enqueue({ kind: 'purchase', eventId, purchaseId: purchase.id, seq: purchase.seq });
      accepted.push(purchase);
    }
    return accepted;
  } finally {
    await queues.close();
    await redis.quit();
  }
}

describe('reconciler', () => {
  it('when Redis loses every job of accepted purchases, then a sweep re-enqueues them and all are decided', async () => {
    const event = await insertEvent(db, { totalTickets: 3 });
    // No worker sees the jobs: purchases are accepted, then the queue is lost entirely.
    const accepted = await accept(
      event.id,
      Array.from({ length: 5 }, (_, index) => `lost-${index}`),
    );
    await environment.redis.deleteKeys();

    worker = createWorker({
      config: environment.config,
      db: workerDb,
      log: createLogger({ level: 'silent', name: 'worker' }),
    });
    await worker.start();
    expect(await worker.reconcileNow()).toBeGreaterThan(0);
    await waitUntilNothingQueued(db, event.id, 20_000);
    const decided = await db
      .selectFrom('purchases')
      .select(['id', 'status'])
      .where('eventId', '=', event.id)
      .execute();
    const statusOf = new Map(decided.map((row) => [row.id, row.status]));
    const outcomes = accepted.map((purchase) => statusOf.get(purchase.id));
    expect(outcomes).toEqual(['confirmed', 'confirmed', 'confirmed', 'waitlisted', 'waitlisted']);
    const rows = await db
      .selectFrom('purchases')
      .select('status')
      .where('eventId', '=', event.id)
      .where('status', '=', 'queued')
      .execute();
    expect(rows).toEqual([]);
  });
});
