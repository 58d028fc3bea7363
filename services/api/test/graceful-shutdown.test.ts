import { ProcessSystem, type Exit } from '@ticketing/harness';
import { EventQueues, createRedis, useTestDatabase, waitUntilNothingQueued } from '@ticketing/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';

const TICKETS = 150;
const REQUESTS = 1_500;
const CLIENTS = 24;
/** SIGTERM goes out once this many purchases were accepted, while the rest are still arriving. */
const STOP_AFTER_ACCEPTED = 200;

/** How a process ends that shut down cleanly: exit code 0, not killed by a signal. */
const CLEAN: Exit = { code: 0, signal: null };

const { db, environment } = await useTestDatabase({ poolSize: 2 });
const system = await ProcessSystem.create({ postgres: environment.postgres, redis: environment.redis });
afterAll(async () => {
  await system.stop();
});

describe('graceful shutdown', () => {
  it('when api and worker get SIGTERM under load, then no accepted purchase is lost and no job is left active', async () => {
    const base = system.url;
    const api = await system.startApi();
    const worker = await system.startWorker({ WORKER_BATCH_SIZE: '20' });
    const created = await fetch(`${base}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Shutdown sale', totalTickets: TICKETS, priceCents: 1000 }),
    });
    expect(created.status).toBe(201);
    const eventId = ((await created.json()) as { id: string }).id;
    // The worker is up and deciding before the load starts.
    const first = (await (
      await fetch(`${base}/events/${eventId}/purchases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'first' }),
      })
    ).json()) as { purchaseId: string };
    const decided = (await (await fetch(`${base}/purchases/${first.purchaseId}?waitMs=20000`)).json()) as {
      status: string;
    };
    expect(decided.status).toBe('confirmed');

    // Closed-loop clients until the api stops answering; SIGTERM to both mid-way.
    const accepted: string[] = [first.purchaseId];
    let next = 0;
    let stopping: Promise<Exit[]> | undefined;
    const client = async (): Promise<void> => {
      while (next < REQUESTS) {
        const index = next++;
        const response = await fetch(`${base}/events/${eventId}/purchases`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: `buyer-${index}` }),
        }).catch(() => undefined);
        if (response === undefined) return; // the api is gone: nothing more can be accepted
        if (response.status === 202)
          accepted.push(((await response.json()) as { purchaseId: string }).purchaseId);
        else await response.body?.cancel();
        if (accepted.length >= STOP_AFTER_ACCEPTED && stopping === undefined) {
          stopping = Promise.all([api.stop(), worker.stop()]);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    expect(stopping, 'the load ended before SIGTERM was sent').toBeDefined();
    // Both processes closed cleanly (exit code 0), not killed mid-flight.
    expect(await stopping).toEqual([CLEAN, CLEAN]);
    expect(accepted.length).toBeGreaterThanOrEqual(STOP_AFTER_ACCEPTED);
    expect(accepted.length).toBeLessThan(REQUESTS);

    const redis = createRedis(environment.config.redisUrl, 'requests');
    const queues = new EventQueues(redis, environment.config.queuePrefix);
    try {
      // Every 202 is a row in Postgres.
      const stored = await db.selectFrom('purchases').select('id').where('id', 'in', accepted).execute();
      expect(stored).toHaveLength(accepted.length);
      // The worker finished what it had started: no job is active, so none can be stalled.
      expect(await queues.queue(eventId).getJobCounts('active', 'failed')).toEqual({ active: 0, failed: 0 });

      // A new worker decides everything that was left.
      const again = await system.startWorker();
      await waitUntilNothingQueued(db, eventId, 30_000);
      const rows = await db
        .selectFrom('purchases')
        .select(['status'])
        .where('eventId', '=', eventId)
        .execute();
      expect(rows.length).toBeGreaterThanOrEqual(accepted.length);
      expect(rows.filter((row) => row.status === 'confirmed')).toHaveLength(Math.min(TICKETS, rows.length));
      expect(rows.every((row) => row.status === 'confirmed' || row.status === 'waitlisted')).toBe(true);
      const event = await db
        .selectFrom('events')
        .selectAll()
        .where('id', '=', eventId)
        .executeTakeFirstOrThrow();
      expect(event.soldTickets).toBe(Math.min(TICKETS, rows.length));

      const deadline = Date.now() + 10_000;
      let counts = await queues.queue(eventId).getJobCounts('waiting', 'active', 'delayed', 'failed');
      while (Object.values(counts).some((count) => count > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        counts = await queues.queue(eventId).getJobCounts('waiting', 'active', 'delayed', 'failed');
      }
      expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
      expect(await again.stop()).toEqual(CLEAN);
    } finally {
      await queues.close();
      await redis.quit();
    }
  });
});
