import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { DrainTarget } from '../decide/target.js';
import type { EventLease } from './event-lease.js';

/** What becomes of an event's work when a round it took part in ends. */
export type AfterRound = 'forget' | 'line-up' | 'stay';

/**
 * What this process knows about one event that has work, from its wake-up until its queue runs dry,
 * and the transitions a round puts it through: woken → planned → applied → completed → lined up again
 * or let go. The drainer does the I/O; this only keeps the state straight.
 */
export class EventWork {
  /** Identifies this process's claim: the lease's value and the lock token of the jobs taken. */
  readonly token = randomUUID();
  /** Held from the event's first round until it has no work left here. */
  lease: EventLease | undefined;
  /** Jobs taken from the event's queue (active, locked with `token`), not yet completed. */
  jobs: Job[] = [];
  /** Apply the requests accepted up to here: the newest job's, or everything (Postgres said so). */
  private upToSeq = 0;
  /** Every purchase of the event up to here was decided by a round this process committed. */
  private decidedThrough = 0;
  /** Postgres has requests of this event pending, whatever Redis holds. */
  private pendingInPostgres = false;
  /** The last round left requests to apply up to `upToSeq`. */
  private unfinished = false;
  /** The queue ran dry at the last fetch, and no new job was announced since. */
  private dry = false;
  /** Woken while in a round: look at the queue again afterwards. */
  private wokenAgain = false;
  private inRound = false;

  constructor(readonly eventId: string) {}

  /** New work was announced; `fromScan`: Postgres says requests are pending, whether or not Redis has jobs. */
  woken(fromScan: boolean): void {
    if (this.inRound) this.wokenAgain = true;
    this.dry = false;
    if (fromScan) this.pendingInPostgres = true;
  }

  enterRound(): void {
    this.inRound = true;
  }

  /** Whether asking the queue for jobs could find any. */
  get mayHaveJobs(): boolean {
    return !this.dry;
  }

  /** Took `taken` jobs after asking for `wanted`: fewer means the queue ran dry. */
  tookJobs(taken: readonly Job[], wanted: number): void {
    this.jobs.push(...taken);
    this.dry = taken.length < wanted || wanted === 0;
  }

  /** The round must know the newest sequence number handed out (Postgres said there is work). */
  get needsLatestSeq(): boolean {
    return this.pendingInPostgres;
  }

  /**
   * Plans this event's part of a round from its valid jobs: apply up to the newest job, or up to
   * `latestSeq` when Postgres said requests are pending. Undefined when there is nothing to apply.
   * A wake-up from the scan of Postgres looks at every queued purchase, whatever this process
   * believes is decided: the scan is the backstop, so it relies on nothing remembered here.
   */
  plan(validJobs: Job[], newestJobSeq: number, latestSeq: number): DrainTarget | undefined {
    const fromPostgres = this.pendingInPostgres;
    this.jobs = validJobs;
    this.upToSeq = Math.max(this.upToSeq, newestJobSeq, fromPostgres ? latestSeq : 0);
    this.pendingInPostgres = false;
    if (validJobs.length === 0 && !this.unfinished && !fromPostgres) return undefined;
    return {
      eventId: this.eventId,
      upToSeq: this.upToSeq,
      decidedThrough: fromPostgres ? 0 : this.decidedThrough,
    };
  }

  /** The jobs were completed; `next` are the jobs the completions took from the queue in their place. */
  completedJobs(next: Job[]): void {
    // Each completion asked for one more: a short answer means the queue ran dry meanwhile.
    this.dry = next.length < this.jobs.length;
    this.jobs = next;
  }

  /** The round committed: whether requests up to the target are left, and the newest purchase decided. */
  applied(unfinished: boolean, decidedThrough: number | undefined): void {
    this.unfinished = unfinished;
    this.decidedThrough = Math.max(this.decidedThrough, decidedThrough ?? 0);
  }

  /** The round failed and its jobs went back to the queue; the scan of Postgres wakes the event again. */
  roundFailed(): void {
    this.jobs = [];
    this.unfinished = false;
    this.pendingInPostgres = false;
    this.wokenAgain = false;
  }

  /** Nothing in hand, nothing left to apply, no new work announced: the lease may go. */
  get idle(): boolean {
    return this.jobs.length === 0 && !this.unfinished && !this.wokenAgain && !this.pendingInPostgres;
  }

  /**
   * The round is over. `leaseLetGo`: it was idle and its lease was released; a wake-up that came
   * meanwhile must not be lost, so it is only forgotten if it is still idle. Closing: only events with
   * jobs in hand take part in another round.
   */
  leaveRound(leaseLetGo: boolean, closing: boolean): AfterRound {
    this.inRound = false;
    if (leaseLetGo) {
      this.lease = undefined;
      if (this.idle) return 'forget';
    }
    this.wokenAgain = false;
    if (closing && this.jobs.length === 0) return 'stay';
    return 'line-up';
  }
}
