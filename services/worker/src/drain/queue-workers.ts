import { Worker, createRedisBackend, type BackendFactory, type Job, type RedisQueueBackend } from 'bullmq';
import { eventQueueName, type Config, type Logger, type RedisClient } from '@ticketing/shared';
import type { QueueReadiness } from './event-work.js';

/** Queue workers kept for recently drained events (about 9 KB each). */
const MAX_QUEUE_WORKERS = 2_000;
const MAX_BUSY_SKIPPED = 64;
/** A queue worker unused this long is closed: an idle event costs nothing, not even a timer. */
const IDLE_CLOSE_MS = 5 * 60_000;

/**
 * Jobs are fetched with non-blocking calls only, so a queue worker needs no blocking connection of
 * its own: every event queue of the process shares one Redis connection, however many there are.
 */
const sharedConnectionBackend: BackendFactory<RedisQueueBackend> = (name, opts, factoryOpts) =>
  createRedisBackend(name, opts, { ...factoryOpts, withBlockingConnection: false });

/** A BullMQ worker for manual processing: takes jobs in pipelined bursts and completes them. */
export class QueueWorker extends Worker {
  lastUsed = Date.now();

  /** The connection the worker runs on, for plain reads of its queue's keys. */
  commands: RedisClient | undefined;

  /**
   * What the queue holds: jobs waiting, and (`withRetries`) retries, delayed jobs. Plain reads instead
   * of a fetch that comes back empty (a Lua script each time), which matters when thousands of events
   * have a job or two each. `wakeups`: the event's wake-ups counted now, before the reads.
   */
  async readiness(wakeups: number, withRetries: boolean): Promise<QueueReadiness> {
    if (this.commands === undefined) return { waiting: 0, delayed: 1, wakeups };
    const [waiting, delayed] = await Promise.all([
      this.commands.llen(this.keys.wait ?? ''),
      withRetries ? this.commands.zcard(this.keys.delayed ?? '') : 0,
    ]);
    return { waiting, delayed, wakeups };
  }

  /** Completes the job (the next ones were fetched already, while the round's transaction ran). */
  async complete(job: Job, token: string): Promise<void> {
    await job.moveToCompleted({ applied: true }, token, false);
  }

  /** Up to `count` waiting jobs, fetched in one pipelined burst. */
  async take(token: string, count: number): Promise<Job[]> {
    const fetched = await Promise.all(
      Array.from({ length: count }, () => this.getNextJob(token, { block: false })),
    );
    return fetched.filter((job): job is Job => job !== undefined && job !== null);
  }
}

/**
 * The queue workers of one process, one per recently drained event, all on the process's one
 * connection. Each runs BullMQ's stalled-job check for its queue, so the jobs of a worker process that
 * died are put back; idle ones are closed.
 */
export class QueueWorkers {
  private readonly workers = new Map<string, QueueWorker>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly config: Pick<
      Config,
      'queuePrefix' | 'workerLockDurationMs' | 'workerStalledIntervalMs' | 'workerMaxStalledCount'
    >,
    private readonly log: Logger,
    /** Events with jobs in hand (taken through their worker): their workers must stay open. */
    private readonly isBusy: (eventId: string) => boolean,
  ) {
    this.sweep = setInterval(() => this.closeIdle(Date.now() - IDLE_CLOSE_MS), IDLE_CLOSE_MS / 5);
    this.sweep.unref();
  }

  /** The event's queue worker, most recently used last. */
  get(eventId: string): QueueWorker {
    let worker = this.workers.get(eventId);
    if (worker === undefined) {
      worker = new QueueWorker(
        eventQueueName(eventId),
        null,
        {
          connection: this.redis,
          prefix: this.config.queuePrefix,
          autorun: false,
          lockDuration: this.config.workerLockDurationMs,
          stalledInterval: this.config.workerStalledIntervalMs,
          maxStalledCount: this.config.workerMaxStalledCount,
          // One INFO per queue object adds up over thousands of events; the version is checked at start.
          skipVersionCheck: true,
        },
        sharedConnectionBackend,
      );
      worker.commands = this.redis;
      worker.on('error', (err) => this.log.warn({ err, eventId }, 'queue worker error'));
      // A stalled job's worker lost its lock (it died or froze); the job runs again, and commits nothing twice.
      worker.on('stalled', (jobId) => this.log.warn({ eventId, jobId }, 'job stalled'));
      // Manual processing: stalled jobs (a crashed worker's) are still moved back to wait.
      void worker.startStalledCheckTimer();
    } else {
      this.workers.delete(eventId);
    }
    worker.lastUsed = Date.now();
    this.workers.set(eventId, worker);
    if (this.workers.size > MAX_QUEUE_WORKERS) this.closeIdle(Number.POSITIVE_INFINITY, 1);
    return worker;
  }

  /**
   * Closes workers not busy and last used before `before`, oldest first, at most `limit` of them.
   * Looks at a bounded number of busy ones: while many events are busy, the cache may run over.
   */
  private closeIdle(before: number, limit = Number.POSITIVE_INFINITY): void {
    let closed = 0;
    let skipped = 0;
    for (const [eventId, worker] of this.workers) {
      if (worker.lastUsed >= before || closed >= limit || skipped >= MAX_BUSY_SKIPPED) return;
      if (this.isBusy(eventId)) {
        skipped += 1;
        continue;
      }
      this.workers.delete(eventId);
      closed += 1;
      void worker.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    await Promise.all([...this.workers.values()].map((worker) => worker.close()));
    this.workers.clear();
  }
}
