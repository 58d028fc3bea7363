import type { EventWork } from './event-work.js';
import type { QueueWorkers } from './queue-workers.js';

/**
 * Keeps the BullMQ locks of a round's jobs alive while its transaction runs, as BullMQ keeps its own
 * lock manager apart from its worker: a transaction longer than the lock duration would otherwise let
 * the stalled-job check hand the jobs to another worker in the middle of the round. Renews every job
 * in hand, the prefetched ones included, each third of the lock duration; a renewal that fails is
 * left to the next one (at worst the job runs again, and changes nothing).
 */
export class JobLockRenewal {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly works: readonly EventWork[],
    private readonly workers: QueueWorkers,
    private readonly lockDurationMs: number,
  ) {
    this.timer = setInterval(() => this.renew(), lockDurationMs / 3);
  }

  private renew(): void {
    for (const work of this.works) {
      const ids = work.jobsInHand.map((job) => job.id ?? '');
      this.workers
        .get(work.eventId)
        .extendJobLocks(
          ids,
          ids.map(() => work.token),
          this.lockDurationMs,
        )
        .catch(() => undefined);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
