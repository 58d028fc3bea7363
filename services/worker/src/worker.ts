import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import {
  EventQueues,
  assertRedisVersion,
  createRedis,
  parseAnnouncement,
  pendingEventsChannel,
  recordDecided,
  purchaseUpdatesChannel,
  type Config,
  type Database,
  type Logger,
  workerConnectionName,
  workerProcessName,
  type RedisClient,
} from '@ticketing/shared';
import { EventDrainer } from './drain/drainer.js';
import { queueDueExpiries } from './holds/expiry-sweep.js';
import { expiriesQueued, recordRoundMetrics } from './metrics/metrics.js';
import { queueDueCloses } from './recovery/due-closes.js';
import { findEventsWithPendingWork } from './recovery/pending-scan.js';
import { reconcile } from './recovery/reconciler.js';
import { WebhookDeliveries } from './webhooks/webhook-deliveries.js';

export interface WorkerDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  readonly log: Logger;
}

export interface TicketingWorker {
  start(): Promise<void>;
  /** Stops taking jobs, lets the batches in progress finish, then releases every connection. */
  close(): Promise<void>;
  /** Runs one reconciler sweep now (the timer runs it periodically); returns the jobs re-created. */
  reconcileNow(): Promise<number>;
  /** Runs one scan of Postgres now (the timer runs it every second): queues due expiries, wakes events. */
  scanNow(): Promise<void>;
  /** Events this process has work for right now, or rests with after it (an event idle past its rest is not among them). */
  readonly activeEvents: number;
}

/** How often Postgres is asked which events have pending requests (a missed wake-up costs at most this). */
const SCAN_INTERVAL_MS = 1_000;

/**
 * A worker process: drains the event queues that have work, woken by the api's announcements and by
 * a periodic scan of Postgres, and runs the reconciler that restores jobs Redis lost.
 */
export function createWorker(deps: WorkerDeps): TicketingWorker {
  const { config, db, log } = deps;
  const workerName = workerProcessName(hostname(), process.pid);
  // Two connections per worker process, however many events it drains.
  const commands: RedisClient = createRedis(
    config,
    'worker',
    workerConnectionName(config.queuePrefix, workerName),
  );
  const subscriber: RedisClient = createRedis(config, 'subscriber', `${config.queuePrefix}:worker-wakeups`);
  const queues = new EventQueues(commands, config.queuePrefix);
  const webhooks = new WebhookDeliveries(config, log);
  const drainer = new EventDrainer({
    config,
    db,
    redis: commands,
    log,
    outbox: webhooks.outbox,
    workerName,
    announce: async (updates) => {
      await commands.publish(purchaseUpdatesChannel(config.queuePrefix), JSON.stringify(updates));
    },
    onRoundApplied: (round) => {
      recordRoundMetrics(round);
      // Queue positions trail the decisions by one round trip; a lost update is repaired by the next.
      for (const { eventId, upToSeq } of round.progress) {
        recordDecided(commands, config.queuePrefix, { eventId, upToSeq, durationMs: round.durationMs }).catch(
          (err: unknown) => log.warn({ err, eventId }, 'queue positions not updated'),
        );
      }
    },
  });
  const timers: NodeJS.Timeout[] = [];
  let closing = false;

  /**
   * Holds past their time get their expiries queued, sales past their end their closes; then every
   * event with requests pending in Postgres (the source of truth, whatever Redis holds) is woken, those
   * expiries and closes included.
   */
  async function scan(): Promise<void> {
    expiriesQueued.inc(await queueDueExpiries(db));
    await queueDueCloses(db);
    for (const eventId of await findEventsWithPendingWork(db)) drainer.wake(eventId, 'pending-in-postgres');
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
      await assertRedisVersion(commands);
      await queues.prepare();
      // Subscriptions are known before the first round, so none of its changes goes unrecorded.
      await webhooks.start();
      subscriber.on('message', (_channel: string, message: string) => {
        const { eventIds, inPostgres } = parseAnnouncement(message);
        for (const eventId of eventIds)
          drainer.wake(eventId, inPostgres ? 'pending-in-postgres' : 'announced');
      });
      await subscriber.subscribe(pendingEventsChannel(config.queuePrefix));
      await scan();
      every(SCAN_INTERVAL_MS, scan, 'pending-event scan');
      every(config.reconcileIntervalMs, reconcileNow, 'reconciler');
      log.info(
        { batchSize: config.workerBatchSize, concurrency: config.workerConcurrency },
        'worker started',
      );
    },
    async close() {
      closing = true;
      for (const timer of timers) clearInterval(timer);
      await subscriber.quit().catch(() => undefined);
      await drainer.close();
      await webhooks.close();
      await queues.close();
      await commands.quit().catch(() => undefined);
    },
    reconcileNow,
    scanNow: scan,
    get activeEvents() {
      return drainer.activeEvents;
    },
  };
}
