import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  createTestEnvironment,
  type Database,
  type TestEnvironment,
} from '@ticketing/shared/testing';
import { insertPurchases } from '../src/purchases/purchases.repository.js';

let environment: TestEnvironment;
let db: Kysely<Database>;
/** Its own connection, so it looks as often as it can while the inserts run. */
let watcherDb: Kysely<Database>;
beforeAll(async () => {
  environment = await createTestEnvironment();
  db = createDb(environment.config.databaseUrl, { poolSize: 12 });
  watcherDb = createDb(environment.config.databaseUrl, { poolSize: 1 });
});
afterAll(async () => {
  await db?.destroy();
  await watcherDb?.destroy();
  await environment?.destroy();
});

describe('accepting order', () => {
  it('when many inserts of one event run at once, then its sequence numbers become visible strictly in order', async () => {
    const event = await db
      .insertInto('events')
      .values({ name: 'Order', totalTickets: 10, priceCents: 100, currency: 'EUR', maxPerPurchase: 10 })
      .returning('id')
      .executeTakeFirstOrThrow();

    // What a worker could see at any moment: how many requests are visible, and the newest number.
    const seen: { count: number; newest: number }[] = [];
    let inserting = true;
    const watcher = (async () => {
      while (inserting) {
        const row = await watcherDb
          .selectFrom('purchases')
          .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.max<number>('seq').as('newest')])
          .where('eventId', '=', event.id)
          .executeTakeFirstOrThrow();
        if (row.count > 0) seen.push({ count: row.count, newest: row.newest });
      }
    })();

    const batches = Array.from({ length: 40 }, (_, batch) =>
      Array.from({ length: 250 }, (_, index) => ({
        id: randomUUID(),
        eventId: event.id,
        userId: `u-${batch}-${index}`,
        quantity: 1,
        joinWaitlist: true,
        idempotencyKey: null,
        drawKey: null,
      })),
    );
    await Promise.all(batches.map((batch) => insertPurchases(db, batch)));
    inserting = false;
    await watcher;

    const all = await db
      .selectFrom('purchases')
      .select('seq')
      .where('eventId', '=', event.id)
      .orderBy('seq')
      .execute();
    expect(all).toHaveLength(10_000);
    expect(seen.length).toBeGreaterThan(0);
    // Whenever the newest visible number was N, every earlier number of the event was visible too.
    for (const { count, newest } of seen) expect(newest).toBe(all[count - 1]?.seq);
  });
});
