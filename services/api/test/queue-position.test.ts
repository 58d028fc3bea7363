import { paceKey, positionsKey, readQueuePosition, recordDecided } from '@ticketing/shared';
import { describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

type QueuedBody = PurchaseBody & { queuePosition?: number; estimatedWaitMs?: number };

const system = await useTestSystem({ WORKER_BATCH_SIZE: '1' }, { worker: false });
const { inject, createEvent, submit, poll } = httpHelpers(() => system);

// One job per transaction, so the line moves one purchase at a time.
async function read(purchaseId: string): Promise<QueuedBody> {
  const response = await inject({ method: 'GET', url: `/purchases/${purchaseId}` });
  expect(response.statusCode).toBe(200);
  return response.json<QueuedBody>();
}

describe('live queue position', () => {
  it('when purchases wait for the worker, then each knows how many are ahead of it', async () => {
    const event = await createEvent({ totalTickets: 100 });
    const other = await createEvent({ totalTickets: 100 });
    await submit(other.id, { userId: 'elsewhere' });
    const queued = [];
    for (let index = 0; index < 4; index += 1) queued.push(await submit(event.id, { userId: `p-${index}` }));

    const bodies = await Promise.all(queued.map((purchase) => read(purchase.purchaseId)));
    // Purchases of another event are not ahead; no rate is known yet, so no estimate is given.
    expect(bodies.map((body) => body.queuePosition)).toEqual([0, 1, 2, 3]);
    expect(bodies.every((body) => body.status === 'queued' && body.estimatedWaitMs === undefined)).toBe(true);

    await system.startWorker();
    const decided = await poll(queued[3]!.purchaseId);
    expect(decided.status).toBe('confirmed');
    expect(decided).not.toHaveProperty('queuePosition');
    expect(decided).not.toHaveProperty('estimatedWaitMs');
    await system.stopWorker();
  });

  it('when the worker decides the purchases ahead, then the position only ever goes down, to a decision', async () => {
    const event = await createEvent({ totalTickets: 1000 });
    const purchases = [];
    for (let index = 0; index < 40; index += 1)
      purchases.push(await submit(event.id, { userId: `line-${index}` }));
    const last = purchases.at(-1)!.purchaseId;
    const seen: number[] = [(await read(last)).queuePosition!];
    expect(seen[0]).toBe(39);

    await system.startWorker();
    const deadline = Date.now() + 20_000;
    let body = await read(last);
    while (body.status === 'queued' && Date.now() < deadline) {
      seen.push(body.queuePosition!);
      body = await read(last);
    }
    expect(body.status).toBe('confirmed');
    for (let index = 1; index < seen.length; index += 1)
      expect(seen[index]).toBeLessThanOrEqual(seen[index - 1]!);
    // Polled while the line moved, not only before and after.
    expect(new Set(seen).size).toBeGreaterThan(2);
    await system.stopWorker();
  });

  it('when the event has a recent processing rate, then a queued purchase gets an estimated wait', async () => {
    const event = await createEvent({ totalTickets: 100 });
    await system.startWorker();
    for (let index = 0; index < 5; index += 1)
      await poll((await submit(event.id, { userId: `r-${index}` })).purchaseId);
    await system.stopWorker();

    const waiting = [];
    for (let index = 0; index < 3; index += 1) waiting.push(await submit(event.id, { userId: `w-${index}` }));
    const [first, third] = [await read(waiting[0]!.purchaseId), await read(waiting[2]!.purchaseId)];
    expect(first.queuePosition).toBe(0);
    expect(third.queuePosition).toBe(2);
    expect(first.estimatedWaitMs).toBeGreaterThan(0);
    expect(third.estimatedWaitMs).toBeGreaterThan(first.estimatedWaitMs!);
    await system.startWorker();
    await poll(waiting[2]!.purchaseId);
    await system.stopWorker();
  });

  it('when a batch is recorded as decided, then everything up to its seq leaves the line and the pace is kept', async () => {
    const { redis, config } = system.deps;
    const eventId = '5a0c4d1e-2b3f-4c5d-8e9f-0a1b2c3d4e5f';
    await redis.zadd(positionsKey(config.queuePrefix, eventId), 10, 'a', 20, 'b', 30, 'c', 40, 'd');
    expect(await readQueuePosition(redis, config.queuePrefix, { eventId, seq: 40 })).toEqual({
      ahead: 3,
      estimatedWaitMs: undefined,
    });
    expect(await recordDecided(redis, config.queuePrefix, { eventId, upToSeq: 20, durationMs: 100 })).toBe(2);
    // Two purchases in 100 ms: 20 per second; the last one waits for one ahead and itself.
    expect(await readQueuePosition(redis, config.queuePrefix, { eventId, seq: 40 })).toEqual({
      ahead: 1,
      estimatedWaitMs: 100,
    });
    expect(await redis.hget(paceKey(config.queuePrefix, eventId), 'decided')).toBe('2');
    // Nothing left to decide up to that point: the pace stays as it was.
    expect(await recordDecided(redis, config.queuePrefix, { eventId, upToSeq: 25, durationMs: 1 })).toBe(0);
    expect(Number(await redis.hget(paceKey(config.queuePrefix, eventId), 'rate'))).toBe(20);
  });
});
