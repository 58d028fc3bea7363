/**
 * `bullmq-plain`, its api: BullMQ as its documentation shows it. A purchase is stored as queued, added
 * to its event's queue with `Queue.add`, and answered 202; a long-poll waits for the job's `completed`
 * event (QueueEvents) and reads the purchase again.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import {
  findPurchase,
  getPurchaseSchema,
  openBooks,
  purchaseView,
  registerBookRoutes,
  type PurchaseRecord,
} from './books.js';
import { PLAIN_JOB_OPTIONS, PLAIN_PREFIX, plainConnection, plainQueueName } from './bullmq-plain-queues.js';
import { baselineApp, baselineEnv, serve, submitPurchaseSchema } from './http.js';

const RECHECK_MS = 1_000;

const env = baselineEnv();
const connection = plainConnection(env.redisUrl);
const pool = await openBooks(env.databaseUrl);
const app = baselineApp();
registerBookRoutes(app, pool);

interface EventChannel {
  readonly queue: Queue;
  readonly events: QueueEvents;
}
const channels = new Map<string, Promise<EventChannel>>();
/** Waiting long-polls by job id. */
const waiters = new Map<string, Set<() => void>>();

function channel(eventId: string): Promise<EventChannel> {
  let opened = channels.get(eventId);
  if (opened === undefined) {
    opened = (async () => {
      const queue = new Queue(plainQueueName(eventId), { connection, prefix: PLAIN_PREFIX });
      const events = new QueueEvents(plainQueueName(eventId), { connection, prefix: PLAIN_PREFIX });
      events.on('completed', ({ jobId }) => {
        for (const wake of waiters.get(jobId) ?? []) wake();
      });
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      return { queue, events };
    })();
    channels.set(eventId, opened);
  }
  return opened;
}

app.post('/events/:id/purchases', { schema: submitPurchaseSchema }, async (request, reply) => {
  const eventId = request.params.id;
  const { queue } = await channel(eventId);
  const { rows } = await pool.query<PurchaseRecord>(
    `insert into purchases (id, event_id, user_id, quantity, status) values ($1, $2, $3, $4, 'queued')
     returning *`,
    [randomUUID(), eventId, String(request.body.userId), request.body.quantity ?? 1],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('purchase not stored');
  await queue.add('purchase', { purchaseId: row.id, eventId }, { ...PLAIN_JOB_OPTIONS, jobId: row.id });
  return reply.status(202).send(purchaseView(row));
});

app.get('/purchases/:id', { schema: getPurchaseSchema }, async (request, reply) => {
  const id = request.params.id;
  const deadline = Date.now() + (request.query.waitMs ?? 0);
  let wake = (): void => {};
  const woken = new Set<() => void>([() => wake()]);
  waiters.set(id, woken);
  try {
    for (;;) {
      const row = await findPurchase(pool, id);
      if (row === undefined)
        return reply.status(404).send({ code: 'not_found', message: 'No such purchase' });
      const remaining = deadline - Date.now();
      if (row.status !== 'queued' || remaining <= 0) return purchaseView(row);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, RECHECK_MS));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    waiters.delete(id);
  }
});

await serve(app, env.port, async () => {
  for (const opened of channels.values()) {
    const { queue, events } = await opened;
    await Promise.all([queue.close(), events.close()]);
  }
  await pool.end();
});
