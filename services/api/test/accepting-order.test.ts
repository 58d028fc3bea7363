import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { insertEvent, insertPurchases, useTestDatabase } from '@ticketing/shared/testing';

const { db, newPool } = await useTestDatabase({ poolSize: 12 });
/** Its own connection, so it looks as often as it can while the inserts run. */
const watcherDb = newPool(1);

describe('accepting order', () => {
  it('when many inserts of one event run at once, then its sequence numbers become visible strictly in order', async () => {
    const event = await insertEvent(db);

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
    await Promise.all(batches.map((batch) => db.transaction().execute((tx) => insertPurchases(tx, batch))));
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
