import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Kysely } from 'kysely';
import {
  WEBHOOK_QUEUE_NAME,
  WebhookOutbox,
  WebhookSubscriptions,
  createDb,
  createRedis,
  deliveryJobId,
  parseDeliveryJob,
  type Config,
  type Database,
  type DeliveryJob,
  type Logger,
  type RedisClient,
} from '@ticketing/shared';
import { DeliveryFailed, deliver } from './deliver.js';
import { lineHeads, overdueHeads, relayMessages } from './deliveries.repository.js';
import { openConnections, type Connections } from './send-webhook.js';

/** Deliveries in flight at once per worker process: they mostly wait on the network. */
const CONCURRENCY = 16;
/** Messages relayed per transaction. */
const RELAY_BATCH = 500;
/** How often the outbox is looked at while some endpoint is subscribed (and every 20th tick otherwise). */
const RELAY_INTERVAL_MS = 250;
/** How often lines whose head lost its job are looked for, and how overdue a head must be. */
const SWEEP_INTERVAL_MS = 30_000;
/** The disable rule ends a delivery long before this many attempts. */
const MAX_ATTEMPTS = 100_000;

/**
 * A worker process's part in webhooks: the outbox its rounds write to (it knows which types are
 * subscribed), the relay that turns committed messages into deliveries, and the queue worker that
 * attempts them. It has a small connection pool of its own, so deliveries never take a connection a
 * round is waiting for, and nothing of it runs inside a round.
 */
export class WebhookDeliveries {
  readonly outbox: WebhookOutbox;
  private readonly db: Kysely<Database>;
  private readonly subscriptions: WebhookSubscriptions;
  /** The queue's commands, and the queue worker's blocking fetches. */
  private readonly connection: RedisClient;
  private readonly blocking: RedisClient;
  private readonly queue: Queue;
  private readonly connections: Connections;
  private worker: Worker | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.db = createDb(config.databaseUrl, {
      poolSize: 4,
      idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
    });
    this.subscriptions = new WebhookSubscriptions(this.db, (err) =>
      log.warn({ err }, 'webhook subscriptions not refreshed'),
    );
    this.outbox = new WebhookOutbox(this.subscriptions);
    this.connection = createRedis(config, 'worker', `${config.queuePrefix}:webhooks`);
    this.blocking = createRedis(config, 'worker', `${config.queuePrefix}:webhook-deliveries`);
    this.queue = new Queue(WEBHOOK_QUEUE_NAME, {
      connection: this.connection,
      prefix: config.queuePrefix,
      skipVersionCheck: true,
      defaultJobOptions: {
        attempts: MAX_ATTEMPTS,
        backoff: { type: 'custom' },
        removeOnComplete: true,
        removeOnFail: true,
      },
    });
    this.queue.on('error', () => {});
    this.connections = openConnections(config.webhookBlockPrivateNetworks, CONCURRENCY);
  }

  async start(): Promise<void> {
    await this.subscriptions.start();
    this.worker = new Worker(WEBHOOK_QUEUE_NAME, (job) => this.process(job), {
      connection: createRedis(this.config, 'worker', `${this.config.queuePrefix}:webhook-deliveries`),
      prefix: this.config.queuePrefix,
      skipVersionCheck: true,
      concurrency: CONCURRENCY,
      lockDuration: this.config.workerLockDurationMs,
      stalledInterval: this.config.workerStalledIntervalMs,
      maxStalledCount: this.config.workerMaxStalledCount,
      // The delay `deliver` chose (the backoff, or the endpoint's Retry-After).
      settings: {
        backoffStrategy: (_attempts, _type, err) =>
          err instanceof DeliveryFailed ? err.delayMs : this.config.webhookRetryBaseMs,
      },
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'webhook worker error'));
    // Whatever a previous process left between commit and delivery, at once.
    await this.sweep(0).catch((err: unknown) => this.log.warn({ err }, 'webhook sweep failed'));
    let ticks = 0;
    this.every(RELAY_INTERVAL_MS, async () => {
      ticks += 1;
      if (this.subscriptions.types.size > 0 || ticks % 20 === 0) await this.relay();
    });
    this.every(SWEEP_INTERVAL_MS, () => this.sweep(SWEEP_INTERVAL_MS));
  }

  /** Relays every message committed so far (in batches), then starts the lines that got deliveries. */
  async relay(): Promise<void> {
    for (;;) {
      const lines = await this.db.transaction().execute((tx) => relayMessages(tx, RELAY_BATCH));
      if (lines === undefined || lines.length === 0) return;
      // Looked up after the relay's commit, so a delivery finishing meanwhile cannot miss its successor.
      await this.enqueue(await lineHeads(this.db, lines));
      if (lines.length < RELAY_BATCH) return;
    }
  }

  private async sweep(graceMs: number): Promise<void> {
    await this.relay();
    for (;;) {
      const heads = await overdueHeads(this.db, graceMs, 1_000);
      await this.enqueue(heads);
      if (heads.length < 1_000) return;
    }
  }

  private async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((job) => ({ name: 'deliver', data: job, opts: { jobId: deliveryJobId(job) } })),
    );
  }

  private async process(job: Job): Promise<string> {
    const delivery = parseDeliveryJob(job.data);
    if (delivery === undefined) throw new UnrecoverableError('Malformed webhook job payload');
    return deliver(
      {
        db: this.db,
        config: this.config,
        log: this.log,
        enqueue: (jobs) => this.enqueue(jobs),
        connections: this.connections,
      },
      delivery,
    );
  }

  private every(intervalMs: number, task: () => Promise<unknown>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.closing) return;
      running = true;
      task()
        .catch((err: unknown) => this.log.warn({ err }, 'webhook relay failed'))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    this.timers.push(timer);
  }

  /** Lets the deliveries in flight finish, then releases the queue, its connections and the pool. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    this.subscriptions.stop();
    await this.worker?.close();
    this.connections.http.destroy();
    this.connections.https.destroy();
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
    await this.blocking.quit().catch(() => undefined);
    await this.db.destroy();
  }
}
