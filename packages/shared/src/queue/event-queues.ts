import { Queue } from 'bullmq';
import type { RedisClient } from '../redis/client.js';
import { recordQueued } from './queue-positions.js';
import {
  eventQueueName,
  JOB_OPTIONS,
  QUEUE_EVENTS_MAX_LENGTH,
  jobIdFor,
  type TicketingJob,
} from './queues.js';

/**
 * Queue objects kept for recently used events (about 7 KB each); older ones are closed and made again
 * if needed (about 150 µs). 1,000 covers a thousand events at once; with ten thousand, a cache twice
 * as large would still miss four times in five, so it would cost memory and save little CPU.
 */
const MAX_QUEUES = 1_000;

/**
 * The producer side of the per-event queues. Queue objects share this process's one connection; one
 * is kept per recently used event.
 */
export class EventQueues {
  /** Most recently used last. */
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: RedisClient,
    private readonly prefix: string,
  ) {}

  /**
   * Defines BullMQ's scripts on the connection before anything else uses it. The connection pipelines
   * automatically, and a pipeline begun before the scripts were defined cannot send them (ioredis
   * answers such a batch with a broken result), so every process does this once at start.
   */
  async prepare(): Promise<void> {
    const probe = new Queue('startup', {
      connection: this.connection,
      prefix: this.prefix,
      skipVersionCheck: true,
    });
    await probe.waitUntilReady();
    await probe.close();
  }

  queue(eventId: string): Queue {
    let queue = this.queues.get(eventId);
    if (queue === undefined) {
      queue = new Queue(eventQueueName(eventId), {
        connection: this.connection,
        prefix: this.prefix,
        // One INFO per queue object adds up over thousands of events; the version is checked at start.
        skipVersionCheck: true,
        streams: { events: { maxLen: QUEUE_EVENTS_MAX_LENGTH } },
      });
      // Errors reach the caller of each command; the emitter must not crash the process.
      queue.on('error', () => {});
    } else {
      this.queues.delete(eventId);
    }
    this.queues.set(eventId, queue);
    if (this.queues.size > MAX_QUEUES) {
      const [oldestId, oldest] = this.queues.entries().next().value as [string, Queue];
      this.queues.delete(oldestId);
      void oldest.close().catch(() => undefined);
    }
    return queue;
  }

  /**
   * Adds a job to its event's queue. Commands issued in the same tick share one write (the connection
   * pipelines automatically), so concurrent enqueues cost one round trip together. A purchase also
   * takes its place in the event's line of queue positions; that write goes first, so a worker that
   * decides the purchase at once still finds it there to remove.
   */
  async enqueue(job: TicketingJob): Promise<void> {
    await Promise.all([
      job.kind === 'purchase' ? recordQueued(this.connection, this.prefix, [job]) : undefined,
      this.queue(job.eventId).add(job.kind, job, { ...JOB_OPTIONS, jobId: jobIdFor(job) }),
    ]);
  }

  /** Jobs not yet finished: waiting, being processed, or waiting to be retried. */
  async depth(eventId: string): Promise<number> {
    const counts = await this.queue(eventId).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
