import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { DrainTarget } from '../decide/target.js';
import type { EventLease } from './event-lease.js';

/**
 * What becomes of an event's work when a round it took part in ends: `rest` keeps it, and its lease,
 * idle until it is woken again or its rest is over.
 */
export type AfterRound = 'forget' | 'line-up' | 'stay' | 'rest';

/** Why an event was woken: the api announced jobs, or the scan found requests pending in Postgres. */
export type WakeReason = 'announced' | 'pending-in-postgres';

/** Jobs taken for the round about to apply them, or prefetched while it runs for the next one. */
export type JobsFor = 'this-round' | 'next-round';

/** What the event's queue held when it was asked, before its jobs were taken. */
export interface QueueReadiness {
  readonly waiting: number;
  /** Retries waiting for their time; 0 when they were not looked for. */
  readonly delayed: number;
  /** The event's wake-ups counted when the queue was read (`EventWork.wakeups`). */
  readonly wakeups: number;
}

/** A drainer `closing` starts no round of its own accord and takes no more jobs. */
export type DrainerState = 'running' | 'closing';

/**
 * What this process knows about one event that has work, from its wake-up until its queue runs dry
 * and its rest is over, and the transitions a round puts it through: woken → planned → applied (the
 * next jobs prefetched meanwhile) → handed over (the applied jobs go to be completed, the prefetched
 * ones are in hand) → lined up again, or resting until woken or let go. The drainer does the I/O;
 * this only keeps the state straight.
 */
export class EventWork {
  /** Identifies this process's claim: the lease's value and the lock token of the jobs taken. */
  readonly token = randomUUID();
  /** Held from the event's first round until it has no work left here. */
  lease: EventLease | undefined;
  /** Jobs taken from the event's queue (active, locked with `token`) for the round, not yet applied. */
  jobs: Job[] = [];
  /** Jobs taken while the round's transaction ran, for the next round. */
  prefetched: Job[] = [];
  /** Completions of applied jobs still in flight (they overlap the next round's transaction). */
  private completing: Promise<void> = Promise.resolve();
  private completionsInFlight = 0;
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
  /** Wake-ups so far: one that came after the queue was read may have brought jobs the read missed. */
  private wakeCount = 0;

  constructor(readonly eventId: string) {}

  /** New work: announced, or (`pending-in-postgres`) requests pending whether or not Redis has jobs. */
  woken(reason: WakeReason): void {
    this.wakeCount += 1;
    if (this.inRound) this.wokenAgain = true;
    this.dry = false;
    if (reason === 'pending-in-postgres') this.pendingInPostgres = true;
  }

  enterRound(): void {
    this.inRound = true;
  }

  /** Whether asking the queue for jobs could find any. */
  get mayHaveJobs(): boolean {
    return !this.dry;
  }

  get wakeups(): number {
    return this.wakeCount;
  }

  /**
   * Took `taken` jobs after asking for `wanted` (for this round, or prefetched for the next) of a
   * queue that held `ready`. The queue ran dry when it gave fewer, or when every job waiting was
   * taken, no retry is due later and no wake-up came since the read: every job added after it is
   * announced, and the announcement wakes the event again. Asking a dry queue again would only cost
   * a read per event and round, which with many events of a few jobs each is most of the reads.
   */
  tookJobs(taken: readonly Job[], wanted: number, ready: QueueReadiness, jobsFor: JobsFor): void {
    (jobsFor === 'next-round' ? this.prefetched : this.jobs).push(...taken);
    const emptied = ready.delayed === 0 && taken.length >= ready.waiting && ready.wakeups === this.wakeCount;
    this.dry = taken.length < wanted || wanted === 0 || emptied;
  }

  /** Every job in this process's hands: the round's and the prefetched ones. */
  get jobsInHand(): Job[] {
    return this.prefetched.length === 0 ? this.jobs : [...this.jobs, ...this.prefetched];
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

  /**
   * The round committed: its jobs go to `complete` (which runs on while the next round applies the
   * prefetched jobs, now in hand). Completing after the commit is what makes a crash in between safe:
   * the jobs run again and change nothing.
   */
  handOver(complete: (applied: Job[]) => Promise<void>): void {
    const applied = this.jobs;
    this.jobs = this.prefetched;
    this.prefetched = [];
    if (applied.length === 0) return;
    this.completionsInFlight += 1;
    const done = complete(applied)
      .catch(() => undefined)
      .finally(() => {
        this.completionsInFlight -= 1;
      });
    this.completing = Promise.all([this.completing, done]).then(() => undefined);
  }

  /** Resolves once every applied job handed over so far is completed (or its completion failed). */
  completions(): Promise<void> {
    return this.completing;
  }

  /** Jobs in hand or being completed: the event's queue worker must stay open. */
  get busy(): boolean {
    return this.jobs.length > 0 || this.prefetched.length > 0 || this.completionsInFlight > 0;
  }

  /** The round committed: whether requests up to the target are left, and the newest purchase decided. */
  applied(unfinished: boolean, decidedThrough: number | undefined): void {
    this.unfinished = unfinished;
    this.decidedThrough = Math.max(this.decidedThrough, decidedThrough ?? 0);
  }

  /** The round failed and its jobs went back to the queue; the scan of Postgres wakes the event again. */
  roundFailed(): void {
    this.jobs = [];
    this.prefetched = [];
    this.unfinished = false;
    this.pendingInPostgres = false;
    this.wokenAgain = false;
  }

  /** Nothing in hand, nothing left to apply, no new work announced: the lease may go. */
  get idle(): boolean {
    return (
      this.jobs.length === 0 &&
      this.prefetched.length === 0 &&
      !this.unfinished &&
      !this.wokenAgain &&
      !this.pendingInPostgres
    );
  }

  /**
   * The round is over (or the rest: see the drainer's `endRests`). Lease `let-go`: it was idle and
   * its lease was released; a wake-up that came meanwhile must not be lost, so it is only forgotten
   * if it is still idle. Lease `kept` and idle: it rests, lease in hand. Drainer `closing`: only
   * events with jobs in hand take part in another round.
   */
  leaveRound(lease: 'let-go' | 'kept', drainer: DrainerState): AfterRound {
    this.inRound = false;
    if (lease === 'let-go') {
      this.lease = undefined;
      if (this.idle) return 'forget';
    } else if (this.idle && drainer === 'running') {
      return 'rest';
    }
    this.wokenAgain = false;
    if (drainer === 'closing' && this.jobs.length === 0) return 'stay';
    return 'line-up';
  }
}
