import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import {
  EventQueues,
  createRedis,
  eventQueueName,
  eventsChannel,
  settledChannel,
  type Config,
  type Database,
  type Logger,
} from '@ticketing/shared';
import { processJob } from './process-job.js';
import { reconcile } from './reconciler.js';

export interface WorkerDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  readonly log: Logger;
}

export interface TicketingWorker {
  start(): Promise<void>;
  /** Stops taking jobs, lets the ones in progress finish, then releases every connection. */
  close(): Promise<void>;
  /** Runs one reconciler sweep now (the timer runs it periodically); returns the jobs re-created. */
  reconcileNow(): Promise<number>;
}

const RESCAN_INTERVAL_MS = 5_000;

/**
 * Hosts one BullMQ worker per event queue, each taking one job at a time. Every queue also has a
 * global concurrency of 1, so with several worker processes an event is still served by one at a time.
 * New events are picked up from the api's announcement, and by a periodic rescan of Postgres.
 */
export function createWorker(deps: WorkerDeps): TicketingWorker {
  const { config, db, log } = deps;
  const commands: Redis = createRedis(config.redisUrl, { blocking: true, name: 'worker' });
  const subscriber: Redis = createRedis(config.redisUrl, { blocking: true, name: 'worker-events' });
  const queues = new EventQueues(commands, config.queuePrefix);
  const workers = new Map<string, Worker>();
  const timers: NodeJS.Timeout[] = [];
  let closing = false;

  async function serveEvent(eventId: string): Promise<void> {
    if (closing || workers.has(eventId)) return;
    const worker = new Worker(
      eventQueueName(eventId),
      async (job) => {
        const changed = await processJob(db, job.data);
        if (changed.length > 0) {
          // Wakes long-polling buyers; losing it only delays them until their next re-read.
          await commands
            .publish(settledChannel(config.queuePrefix), JSON.stringify(changed))
            .catch(() => undefined);
        }
        return { changed: changed.length };
      },
      { connection: commands, prefix: config.queuePrefix, concurrency: 1, autorun: false },
    );
    worker.on('failed', (job, err) => log.warn({ err, jobId: job?.id, eventId }, 'job failed'));
    worker.on('error', (err) => log.error({ err, eventId }, 'worker error'));
    workers.set(eventId, worker);
    await queues
      .prepare(eventId)
      .catch((err: unknown) => log.warn({ err, eventId }, 'could not set queue concurrency'));
    void worker.run();
  }

  async function discover(): Promise<void> {
    const events = await db.selectFrom('events').select('id').execute();
    for (const event of events) await serveEvent(event.id);
  }

  const reconcileNow = (): Promise<number> => reconcile({ db, queues, log }, config.reconcileAfterMs);

  function every(intervalMs: number, task: () => Promise<unknown>, what: string): void {
    if (intervalMs <= 0) return;
    let running = false;
    const timer = setInterval(() => {
      if (running || closing) return;
      running = true;
      task()
        .catch((err: unknown) => log.warn({ err }, `${what} failed`))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timers.push(timer);
  }

  return {
    async start() {
      subscriber.on('message', (_channel: string, eventId: string) => {
        void serveEvent(eventId);
      });
      await subscriber.subscribe(eventsChannel(config.queuePrefix));
      await discover();
      every(RESCAN_INTERVAL_MS, discover, 'event rescan');
      every(config.reconcileIntervalMs, reconcileNow, 'reconciler');
      log.info({ events: workers.size }, 'worker started');
    },
    async close() {
      closing = true;
      for (const timer of timers) clearInterval(timer);
      await Promise.all([...workers.values()].map((worker) => worker.close()));
      workers.clear();
      await queues.close();
      await Promise.all([subscriber.quit().catch(() => undefined), commands.quit().catch(() => undefined)]);
    },
    reconcileNow,
  };
}
