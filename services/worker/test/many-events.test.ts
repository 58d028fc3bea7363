import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EventQueues,
  createLogger,
  createRedis,
  encodePendingEvents,
  pendingEventsChannel,
  useTestDatabase,
} from '@ticketing/shared/testing';
import type { Redis } from 'ioredis';
import { createWorker, type TicketingWorker } from '@ticketing/worker';

const EVENTS = 10_000;
const BUYERS_PER_EVENT = 2;

// Only announcements and jobs lead the worker here: no reconciler.
const { db, environment, newPool } = await useTestDatabase({
  poolSize: 8,
  env: { RECONCILE_INTERVAL_MS: '0' },
});
const redis: Redis = createRedis(environment.config.redisUrl, 'requests');
let worker: TicketingWorker;
afterAll(async () => {
  await worker?.close();
  await redis.quit();
});

async function countQueued(): Promise<number> {
  const row = await db
    .selectFrom('purchases')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('status', '=', 'queued')
    .executeTakeFirstOrThrow();
  return row.count;
}

describe('thousands of events', () => {
  it('when 10,000 events each get buyers, then every event is decided in queue order by one worker on two Redis connections', async () => {
    const { config } = environment;
    // One ticket per event and two buyers each: the first in line must get it, the second must wait.
    await sql`
      insert into events (name, total_tickets, price_cents, currency, max_per_purchase)
      select 'Event ' || n, 1, 500, 'EUR', 10 from generate_series(1, ${EVENTS}) as n`.execute(db);
    const { rows: purchases } = await sql<{ id: string; eventId: string; seq: number }>`
      insert into purchases (id, event_id, user_id, quantity, join_waitlist)
      select gen_random_uuid(), e.id, 'buyer-' || b, 1, true
      from events e cross join generate_series(1, ${BUYERS_PER_EVENT}) as b
      order by e.id, b
      returning id, event_id, seq`.execute(db);

    worker = createWorker({
      config,
      db: newPool(config.workerConcurrency + 2),
      log: createLogger({ level: 'silent', name: 'worker' }),
    });
    await worker.start();

    const queues = new EventQueues(createRedis(config.redisUrl, 'requests'), config.queuePrefix);
    for (let start = 0; start < purchases.length; start += 1_000) {
      const chunk = purchases.slice(start, start + 1_000);
      await Promise.all(
        chunk.map((purchase) =>
          queues.enqueue({
            kind: 'purchase',
            eventId: purchase.eventId,
            purchaseId: purchase.id,
            seq: purchase.seq,
          }),
        ),
      );
      await redis.publish(
        pendingEventsChannel(config.queuePrefix),
        encodePendingEvents([...new Set(chunk.map((purchase) => purchase.eventId))]),
      );
    }
    await queues.close();

    const deadline = Date.now() + 120_000;
    while ((await countQueued()) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await countQueued()).toBe(0);

    // Per event: the earlier buyer holds the ticket, the later one is first on the waiting list.
    const { rows: outOfOrder } = await sql<{ count: number }>`
      select count(*)::int as count from (
        select status, row_number() over (partition by event_id order by seq) as place from purchases
      ) as line
      where status <> case when place = 1 then 'confirmed' else 'waitlisted' end`.execute(db);
    expect(outOfOrder[0]?.count).toBe(0);
    const oversold = await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('soldTickets', '<>', 1)
      .executeTakeFirstOrThrow();
    expect(oversold.count).toBe(0);

    // However many queues, the worker talks to Redis over its two connections.
    const clients = (await redis.client('LIST')) as string;
    const workerConnections = clients
      .split('\n')
      .filter((line) => line.includes(` name=${config.queuePrefix}:worker`));
    expect(workerConnections.length).toBe(2);

    // Once drained, an idle event holds nothing in the worker.
    const idleDeadline = Date.now() + 10_000;
    while (worker.activeEvents > 0 && Date.now() < idleDeadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(worker.activeEvents).toBe(0);
  }, 180_000);
});
