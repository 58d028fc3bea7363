import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { recordQueued } from './queue-positions.js';
import { eventQueueName, JOB_OPTIONS, jobIdFor, type PurchaseJob, type TicketingJob } from './queues.js';

/**
 * The producer side of the per-event queues. Queue objects are cheap (they share one connection), so
 * one is kept per event this process has touched.
 */
export class EventQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  queue(eventId: string): Queue {
    let queue = this.queues.get(eventId);
    if (queue === undefined) {
      queue = new Queue(eventQueueName(eventId), { connection: this.connection, prefix: this.prefix });
      // Errors reach the caller of each command; the emitter must not crash the process.
      queue.on('error', () => {});
      this.queues.set(eventId, queue);
    }
    return queue;
  }

  async enqueue(job: TicketingJob): Promise<void> {
    await this.enqueueBulk([job]);
  }

  /**
   * Adds several jobs of one event in one round trip, in the order given. Purchases also take their
   * place in the event's line of queue positions; that write is sent first, so a worker that decides
   * a purchase at once still finds it there to remove.
   */
  async enqueueBulk(jobs: readonly TicketingJob[]): Promise<void> {
    const first = jobs[0];
    if (first === undefined) return;
    const purchases = jobs.filter((job): job is PurchaseJob => job.kind === 'purchase');
    await Promise.all([
      recordQueued(this.connection, this.prefix, purchases),
      this.queue(first.eventId).addBulk(
        jobs.map((job) => ({ name: job.kind, data: job, opts: { ...JOB_OPTIONS, jobId: jobIdFor(job) } })),
      ),
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
