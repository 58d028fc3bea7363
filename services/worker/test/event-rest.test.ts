import { afterAll, describe, expect, it } from 'vitest';
import {
  EventQueues,
  createLogger,
  createRedis,
  encodePendingEvents,
  eventLeaseKey,
  insertAcceptedPurchase,
  insertEvent,
  newPurchaseRow,
  parseLeaseHolder,
  pendingEventsChannel,
  useTestDatabase,
  waitUntilNothingQueued,
} from '@ticketing/shared/testing';
import { createWorker, type TicketingWorker } from '@ticketing/worker';

/** An event rests for a third of its lease: 1 s here. */
const LEASE_MS = 3_000;

// Only announcements lead the worker here: no reconciler.
const { db, environment, newPool } = await useTestDatabase({
  poolSize: 4,
  env: { RECONCILE_INTERVAL_MS: '0', EVENT_LEASE_MS: String(LEASE_MS) },
});
const { config } = environment;
const redis = createRedis(config.redisUrl, 'requests');
const queues = new EventQueues(redis, config.queuePrefix);
let worker: TicketingWorker | undefined;
afterAll(async () => {
  await worker?.close();
  await queues.close();
  await redis.quit();
});

/** A purchase as the api accepts it: stored, enqueued, then announced. */
async function accept(eventId: string, userId: string): Promise<void> {
  const purchase = await insertAcceptedPurchase(db, newPurchaseRow(eventId, userId));
  await queues.enqueue({ kind: 'purchase', eventId, purchaseId: purchase.id, seq: purchase.seq });
  await redis.publish(pendingEventsChannel(config.queuePrefix), encodePendingEvents([eventId]));
}

const leaseOf = async (eventId: string) => {
  const value = await redis.get(eventLeaseKey(config.queuePrefix, eventId));
  return value === null ? undefined : parseLeaseHolder(value);
};

describe('an event at rest', () => {
  it('when a drained event gets a purchase within its rest, then it is decided under the lease already held, which is let go once the rest is over', async () => {
    const event = await insertEvent(db, { totalTickets: 10 });
    await queues.prepare();
    worker = createWorker({
      config,
      db: newPool(config.workerConcurrency + 2),
      log: createLogger({ level: 'silent', name: 'worker' }),
    });
    await worker.start();

    await accept(event.id, 'first');
    await waitUntilNothingQueued(db, event.id);
    // Drained and idle, the event keeps its lease for its rest.
    const held = await leaseOf(event.id);
    expect(held).toBeDefined();

    await accept(event.id, 'second');
    await waitUntilNothingQueued(db, event.id);
    // The same claim: the lease was neither let go nor taken again.
    expect(await leaseOf(event.id)).toEqual(held);
    const statuses = await db
      .selectFrom('purchases')
      .select('status')
      .where('eventId', '=', event.id)
      .execute();
    expect(statuses.map((row) => row.status)).toEqual(['confirmed', 'confirmed']);

    // Past the rest (and well before the lease would lapse), it is let go and the event forgotten.
    const deadline = Date.now() + LEASE_MS;
    while ((worker.activeEvents > 0 || (await leaseOf(event.id)) !== undefined) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await leaseOf(event.id)).toBeUndefined();
    expect(worker.activeEvents).toBe(0);
  });
});
