import { randomUUID } from 'node:crypto';
import {
  UnrecoverableError,
  Worker,
  createRedisBackend,
  type BackendFactory,
  type Job,
  type RedisQueueBackend,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import {
  eventLeaseKey,
  eventQueueName,
  parseJob,
  type Config,
  type Database,
  type Logger,
  type TicketingJob,
} from '@ticketing/shared';
import { applyJobs, latestSeq } from './apply-jobs.js';
import { drainEvent } from './drain-event.js';
import { EventLease } from './event-lease.js';

/** Queue workers kept for recently drained events (they share this process's one connection). */
const MAX_QUEUE_WORKERS = 1_000;

/**
 * Jobs are fetched with non-blocking calls only, so a queue worker needs no blocking connection of
 * its own: every event queue of the process shares one Redis connection, however many there are.
 */
const sharedConnectionBackend: BackendFactory<RedisQueueBackend> = (name, opts, factoryOpts) =>
  createRedisBackend(name, opts, { ...factoryOpts, withBlockingConnection: false });
/** Jobs first requested from Redis when filling a batch; doubled while the queue keeps up. */
const FIRST_FETCH = 4;

export interface DrainerDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  /** Shared, non-blocking command connection of this process. */
  readonly redis: Redis;
  readonly log: Logger;
  /** Announces purchases whose state changed (wakes long-polling buyers). */
  readonly announce: (purchaseIds: string[]) => Promise<void>;
}

/**
 * Drains event queues in batches. Events that have work are woken (by the api's announcement, or by
 * the periodic scan of Postgres) and wait in a FIFO; up to `workerConcurrency` are drained at once.
 * Draining an event takes its lease, then repeatedly fetches up to `workerBatchSize` jobs with
 * non-blocking pipelined `getNextJob`, applies them in one transaction per batch, and completes them.
 * Idle events cost nothing: no worker object, no connection, no polling.
 */
export class EventDrainer {
  private readonly ready: string[] = [];
  private readonly waiting = new Set<string>();
  private readonly active = new Map<string, Promise<void>>();
  /** Events woken while being drained: drained once more afterwards, so no wake-up is lost. */
  private readonly wokenAgain = new Set<string>();
  /** Events the Postgres scan found pending: drained from Postgres even if Redis has no job for them. */
  private readonly pendingInPostgres = new Set<string>();
  /** BullMQ workers used for manual fetching, most recently used last. */
  private readonly workers = new Map<string, Worker>();
  private closing = false;

  constructor(private readonly deps: DrainerDeps) {}

  get activeEvents(): number {
    return this.active.size;
  }

  /** `fromScan`: Postgres says the event has pending requests, whether or not Redis has jobs. */
  wake(eventId: string, fromScan = false): void {
    if (this.closing) return;
    if (fromScan) this.pendingInPostgres.add(eventId);
    if (this.active.has(eventId)) {
      this.wokenAgain.add(eventId);
      return;
    }
    if (this.waiting.has(eventId)) return;
    this.waiting.add(eventId);
    this.ready.push(eventId);
    this.pump();
  }

  private pump(): void {
    while (!this.closing && this.active.size < this.deps.config.workerConcurrency) {
      const eventId = this.ready.shift();
      if (eventId === undefined) return;
      this.waiting.delete(eventId);
      const run = this.drain(eventId)
        .catch((err: unknown) => this.deps.log.warn({ err, eventId }, 'draining an event failed'))
        .finally(() => {
          this.active.delete(eventId);
          if (this.wokenAgain.delete(eventId)) this.wake(eventId);
          this.pump();
        });
      this.active.set(eventId, run);
    }
  }

  private async drain(eventId: string): Promise<void> {
    const { config, redis } = this.deps;
    const token = randomUUID();
    const lease = new EventLease(
      redis,
      eventLeaseKey(config.queuePrefix, eventId),
      token,
      config.eventLeaseMs,
    );
    // Another process holds the event; it drains whatever arrives until it lets go.
    if (!(await lease.acquire())) return;
    try {
      const worker = this.workerFor(eventId);
      while (!this.closing) {
        const jobs = await this.fetchBatch(worker, token);
        // Lost or stuck jobs never hold a purchase back: Postgres knows what is pending.
        const fromPostgres = this.pendingInPostgres.delete(eventId);
        if (jobs.length === 0 && !fromPostgres) return;
        await this.applyBatch(eventId, worker, token, jobs);
        if (jobs.length < config.workerBatchSize) return;
        if (!(await lease.extend())) return;
      }
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /**
   * Up to a batch of jobs, fetched in pipelined chunks that double while the queue keeps them full,
   * so a short queue costs few fetches and a deep one few round trips.
   */
  private async fetchBatch(worker: Worker, token: string): Promise<Job[]> {
    const jobs: Job[] = [];
    const { workerBatchSize } = this.deps.config;
    let chunk = FIRST_FETCH;
    while (jobs.length < workerBatchSize) {
      const want = Math.min(chunk, workerBatchSize - jobs.length);
      chunk *= 2;
      const fetched = await Promise.all(
        Array.from({ length: want }, () => worker.getNextJob(token, { block: false })),
      );
      const got = fetched.filter((job): job is Job => job !== undefined && job !== null);
      jobs.push(...got);
      if (got.length < want) break;
    }
    return jobs;
  }

  /**
   * Applies the requests behind the jobs (or, with no jobs, whatever Postgres has pending for the
   * event), then completes the jobs. Their locks are kept alive while the transaction runs.
   */
  private async applyBatch(eventId: string, worker: Worker, token: string, jobs: Job[]): Promise<void> {
    const { db, config } = this.deps;
    const valid: { job: Job; payload: TicketingJob }[] = [];
    for (const job of jobs) {
      const payload = parseJob(job.data);
      if (payload !== undefined && payload.eventId === eventId) valid.push({ job, payload });
      else await job.moveToFailed(new UnrecoverableError('Malformed job payload'), token, false);
    }

    const lockDurationMs = config.workerLockDurationMs;
    const renewal = setInterval(() => {
      const ids = valid.map(({ job }) => job.id ?? '');
      worker
        .extendJobLocks(
          ids,
          ids.map(() => token),
          lockDurationMs,
        )
        .catch(() => undefined);
    }, lockDurationMs / 3);
    let changed: string[];
    try {
      changed =
        valid.length > 0
          ? await applyJobs(
              db,
              eventId,
              valid.map(({ payload }) => payload),
              config.workerBatchSize,
            )
          : await drainEvent(db, eventId, await latestSeq(db), config.workerBatchSize);
    } catch (error) {
      // Transient (Postgres away): the jobs go back for a retry with backoff; nothing was committed.
      await Promise.all(
        valid.map(({ job }) => job.moveToFailed(error as Error, token, false).catch(() => undefined)),
      );
      throw error;
    } finally {
      clearInterval(renewal);
    }
    await Promise.all(valid.map(({ job }) => job.moveToCompleted({ applied: true }, token, false)));
    if (changed.length > 0) await this.deps.announce(changed).catch(() => undefined);
  }

  private workerFor(eventId: string): Worker {
    const existing = this.workers.get(eventId);
    if (existing !== undefined) {
      this.workers.delete(eventId);
      this.workers.set(eventId, existing);
      return existing;
    }
    const { config, redis, log } = this.deps;
    const worker = new Worker(
      eventQueueName(eventId),
      null,
      {
        connection: redis,
        prefix: config.queuePrefix,
        autorun: false,
        lockDuration: config.workerLockDurationMs,
        stalledInterval: config.workerStalledIntervalMs,
        maxStalledCount: config.workerMaxStalledCount,
      },
      sharedConnectionBackend,
    );
    worker.on('error', (err) => log.warn({ err, eventId }, 'queue worker error'));
    // A stalled job's worker lost its lock (it died or froze); the job runs again, and commits nothing twice.
    worker.on('stalled', (jobId) => log.warn({ eventId, jobId }, 'job stalled'));
    // Manual processing: stalled jobs (a crashed worker's) are still moved back to wait.
    void worker.startStalledCheckTimer();
    this.workers.set(eventId, worker);
    for (const [idleEventId, idle] of this.workers) {
      if (this.workers.size <= MAX_QUEUE_WORKERS) break;
      if (this.active.has(idleEventId)) continue;
      this.workers.delete(idleEventId);
      void idle.close().catch(() => undefined);
    }
    return worker;
  }

  /** Lets the batches in progress finish, then closes every queue worker. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.active.values());
    await Promise.all([...this.workers.values()].map((worker) => worker.close()));
    this.workers.clear();
  }
}
