/**
 * `bullmq-plain`, its worker: one BullMQ `Worker` per event queue at concurrency 1 (so each event's
 * purchases are decided in queue order), each job decided in a transaction of its own under the
 * event's row lock. New events are picked up by looking at Postgres every half second.
 */
import { createServer } from 'node:http';
import { Worker, type Job } from 'bullmq';
import pg from 'pg';
import { PLAIN_PREFIX, plainConnection, plainQueueName } from './bullmq-plain-queues.js';
import { baselineEnv } from './http.js';

const DISCOVERY_MS = 500;

const env = baselineEnv();
const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 10 });
pool.on('error', () => {});
const workers = new Map<string, Worker>();

async function decide(job: Job<{ purchaseId: string; eventId: string }>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const event = await client.query<{ total: number; sold: number }>(
      'select total, sold from events where id = $1 for update',
      [job.data.eventId],
    );
    const purchase = await client.query<{ quantity: number; status: string }>(
      'select quantity, status from purchases where id = $1 for update',
      [job.data.purchaseId],
    );
    const sale = event.rows[0];
    const request = purchase.rows[0];
    if (sale !== undefined && request !== undefined && request.status === 'queued') {
      const fits = sale.sold + request.quantity <= sale.total;
      if (fits)
        await client.query('update events set sold = sold + $2 where id = $1', [
          job.data.eventId,
          request.quantity,
        ]);
      await client.query('update purchases set status = $2, processed_at = now() where id = $1', [
        job.data.purchaseId,
        fits ? 'confirmed' : 'rejected',
      ]);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function discover(): Promise<void> {
  const { rows } = await pool.query<{ id: string }>('select id from events');
  for (const { id } of rows) {
    if (workers.has(id)) continue;
    const worker = new Worker(plainQueueName(id), decide, {
      connection: plainConnection(env.redisUrl),
      prefix: PLAIN_PREFIX,
      concurrency: 1,
    });
    worker.on('error', () => {});
    workers.set(id, worker);
  }
}

await discover();
const timer = setInterval(() => void discover().catch(() => undefined), DISCOVERY_MS);
// Answers the harness's readiness check, as the project's worker does on its metrics port.
const readiness = createServer((_request, response) => response.end('ready')).listen(
  env.metricsPort,
  '127.0.0.1',
);
process.on('SIGTERM', () => {
  clearInterval(timer);
  readiness.close();
  void Promise.all([...workers.values()].map((worker) => worker.close()))
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
