import { UnrecoverableError, type Job } from 'bullmq';
import type { Kysely } from 'kysely';
import {
  encodeLeaseHolder,
  eventLeaseKey,
  parseJob,
  type Config,
  type Database,
  type Logger,
  type OutboxRecorder,
  type PurchaseUpdate,
  type RedisClient,
} from '@ticketing/shared';
import { applyRound, latestSeq, type RoundOutcome } from '../decide/round.js';
import type { DrainTarget } from '../decide/target.js';
import { EventLease } from './event-lease.js';
import {
  EventWork,
  type AfterRound,
  type DrainerState,
  type JobsFor,
  type WakeReason,
} from './event-work.js';
import { JobLockRenewal } from './job-lock-renewal.js';
import { QueueWorkers, type QueueWorker } from './queue-workers.js';

/** Events one round takes from the line: one transaction decides all of them. */
export const MAX_EVENTS_PER_ROUND = 64;

/** How often resting events are looked at, to let go of those whose rest is over. */
const REST_SWEEP_MS = 500;

/**
 * What a round takes in: `draining` takes jobs for itself and prefetches the next round's while its
 * transaction runs; `finishing` (on close) applies the jobs already in hand and takes no more.
 */
type RoundKind = 'draining' | 'finishing';

export interface DrainerDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  /** Shared, non-blocking command connection of this process. */
  readonly redis: RedisClient;
  readonly log: Logger;
  /** This process as the queue dashboard names it (`workerProcessName`): written into its leases. */
  readonly workerName: string;
  /** Announces purchases whose state changed (answers long-polling buyers). */
  readonly announce: (updates: PurchaseUpdate[]) => Promise<void>;
  /** Where rounds record their changes for webhooks, in their transaction. */
  readonly outbox?: OutboxRecorder;
  /** Told of every committed round (metrics, queue positions); must be cheap and must not throw. */
  readonly onRoundApplied?: (round: AppliedRound) => void;
}

export interface AppliedRound extends RoundOutcome {
  /** Jobs the round completed. */
  readonly jobs: number;
  /** When each of them was enqueued (ms since the epoch, by the enqueueing process's clock). */
  readonly enqueuedAt: readonly number[];
  /** The transaction and completing its jobs. */
  readonly durationMs: number;
}

/**
 * Drains event queues in rounds. Events with work are woken (by the api's announcement, or by the
 * periodic scan of Postgres) and wait their turn in a FIFO line. A round takes up to
 * `MAX_EVENTS_PER_ROUND` of them, takes their leases (so one worker process drains an event at a
 * time), fetches up to `workerBatchSize` jobs of each with pipelined non-blocking calls, and applies
 * all of them in one transaction. Redis and Postgres work overlap instead of taking turns: while the
 * transaction runs, each event's next jobs are fetched; once it committed, its jobs are completed
 * while the event's next round already applies the prefetched ones. Events left with jobs or work go
 * back to the end of the line, keeping their lease; the others rest, lease in hand, for a third of
 * the lease's duration (so resting never needs it extended), then let it go once their completions
 * are done. A wake-up during the rest lines the event up at once, with no lease to take again: with
 * many events of a few purchases each, taking and releasing a lease for every round was a fifth of
 * the worker's Redis calls. Up to `workerConcurrency` rounds run at once.
 * Events idle past their rest cost nothing: no object, no connection, no polling.
 */
export class EventDrainer {
  private readonly work = new Map<string, EventWork>();
  private readonly line: EventWork[] = [];
  /** Idle events still holding their lease, with when they came to rest, longest resting first. */
  private readonly resting = new Map<EventWork, number>();
  private readonly restSweep: NodeJS.Timeout;
  private readonly rounds = new Set<Promise<void>>();
  /** Announcements sent after a commit, not awaited by the round. */
  private readonly announcing = new Set<Promise<void>>();
  private readonly workers: QueueWorkers;
  private state: DrainerState = 'running';

  constructor(private readonly deps: DrainerDeps) {
    this.workers = new QueueWorkers(
      deps.redis,
      deps.config,
      deps.log,
      (eventId) => this.work.get(eventId)?.busy ?? false,
    );
    this.restSweep = setInterval(() => this.endRests(), REST_SWEEP_MS);
    this.restSweep.unref();
  }

  /** Events with work in this process, and idle ones resting with their lease. */
  get activeEvents(): number {
    return this.work.size;
  }

  /** `pending-in-postgres`: the scan found requests pending, whether or not Redis has jobs. */
  wake(eventId: string, reason: WakeReason = 'announced'): void {
    if (this.state === 'closing') return;
    let work = this.work.get(eventId);
    if (work === undefined) {
      work = new EventWork(eventId);
      this.work.set(eventId, work);
      this.line.push(work);
    } else if (this.resting.delete(work)) {
      this.line.push(work);
    }
    work.woken(reason);
    this.pump();
  }

  private pump(): void {
    while (
      this.state === 'running' &&
      this.rounds.size < this.deps.config.workerConcurrency &&
      this.line.length > 0
    ) {
      this.startRound(this.line.splice(0, MAX_EVENTS_PER_ROUND), 'draining');
    }
  }

  private startRound(works: EventWork[], kind: RoundKind): Promise<void> {
    for (const work of works) work.enterRound();
    const round = this.round(works, kind)
      .catch((err: unknown) => this.deps.log.warn({ err }, 'drain round failed'))
      .finally(() => {
        this.rounds.delete(round);
        this.pump();
      });
    this.rounds.add(round);
    return round;
  }

  /** One transaction's worth: claim, fetch, apply, complete, then line up again or let go. */
  private async round(works: EventWork[], kind: RoundKind): Promise<void> {
    const claimed = await this.claim(works);
    try {
      if (kind === 'draining') await Promise.all(claimed.map((work) => this.topUp(work, 'this-round')));
      const targets = await this.targets(claimed);
      if (targets.length > 0) await this.apply(claimed, targets, kind);
    } catch (error) {
      // Transient (Postgres away): the jobs go back for a retry with backoff; nothing was committed.
      // The events rest rather than being retried at once; the scan of Postgres wakes them again.
      await Promise.all(
        claimed.flatMap((work) =>
          work.jobsInHand.map((job) =>
            job.moveToFailed(error as Error, work.token, false).catch(() => undefined),
          ),
        ),
      );
      for (const work of claimed) work.roundFailed();
      throw error;
    } finally {
      await this.lineUpOrLetGo(claimed);
    }
  }

  /**
   * Takes or extends the events' leases; returns the events this process may drain. An event whose
   * lease another process holds is that process's to drain (it hears the same wake-ups).
   */
  private async claim(works: EventWork[]): Promise<EventWork[]> {
    const { redis, config } = this.deps;
    const held = await Promise.all(
      works.map(async (work) => {
        if (work.lease !== undefined) return work.lease.extendIfDue();
        const lease = new EventLease(
          redis,
          eventLeaseKey(config.queuePrefix, work.eventId),
          encodeLeaseHolder({ worker: this.deps.workerName, since: Date.now(), token: work.token }),
          config.eventLeaseMs,
        );
        if (!(await lease.acquire())) return false;
        work.lease = lease;
        return true;
      }),
    );
    const claimed: EventWork[] = [];
    works.forEach((work, index) => {
      // Jobs in hand are applied even if the lease lapsed: the row locks keep that safe.
      if (held[index] === true || work.jobs.length > 0) claimed.push(work);
      else this.forget(work);
    });
    return claimed;
  }

  /**
   * Takes up to a batch of jobs, as many as are waiting, in one pipelined burst: for a round with
   * none in hand (`this-round`), or while this round's transaction runs (`next-round`). A round that has the jobs
   * prefetched for it takes no more: asking would wait behind the last round's completions on the
   * connection, putting Redis back in series with Postgres. A failed prefetch takes nothing (jobs it
   * left active are put back by the stalled-job check) and leaves the queue to be asked again.
   */
  private async topUp(work: EventWork, jobsFor: JobsFor): Promise<void> {
    if (!work.mayHaveJobs || this.state === 'closing') return;
    if (jobsFor === 'this-round' && work.jobs.length > 0) return;
    const worker = this.workers.get(work.eventId);
    try {
      // Retries are not announced: their purchases are still queued in Postgres, and the scan of it
      // wakes the event, which is when they are looked for.
      const ready = await worker.readiness(work.wakeups, work.needsLatestSeq);
      // Those waiting, or one when only retries are left: asking is what moves a due retry to wait.
      const want = Math.min(
        ready.waiting > 0 ? ready.waiting : Math.min(ready.delayed, 1),
        this.deps.config.workerBatchSize,
      );
      work.tookJobs(want > 0 ? await worker.take(work.token, want) : [], want, ready, jobsFor);
    } catch (err) {
      if (jobsFor === 'this-round') throw err;
      this.deps.log.warn({ err, eventId: work.eventId }, 'prefetching jobs failed');
    }
  }

  /** How far to apply each event; jobs whose payload is not one of this event's fail for good. */
  private async targets(works: EventWork[]): Promise<DrainTarget[]> {
    const everything = works.some((work) => work.needsLatestSeq) ? await latestSeq(this.deps.db) : 0;
    const targets: DrainTarget[] = [];
    for (const work of works) {
      const valid: Job[] = [];
      let newestSeq = 0;
      for (const job of work.jobs) {
        const payload = parseJob(job.data);
        if (payload !== undefined && payload.eventId === work.eventId) {
          valid.push(job);
          newestSeq = Math.max(newestSeq, payload.seq);
        } else {
          await job.moveToFailed(new UnrecoverableError('Malformed job payload'), work.token, false);
        }
      }
      const target = work.plan(valid, newestSeq, everything);
      if (target !== undefined) targets.push(target);
    }
    return targets;
  }

  /**
   * Applies the round in one transaction, then hands its jobs over to be completed, reports it and
   * announces the purchases' updates; neither completing nor announcing is awaited here: the event's
   * next round need not wait for Redis.
   */
  private async apply(works: EventWork[], targets: DrainTarget[], kind: RoundKind): Promise<void> {
    const started = performance.now();
    const enqueuedAt = works.flatMap((work) => work.jobs.map((job) => job.timestamp));
    const outcome = await this.transact(works, targets, kind);
    for (const work of works) {
      work.applied(outcome.unfinished.has(work.eventId), outcome.decidedThrough.get(work.eventId));
      work.handOver((applied) => this.complete(work, applied));
    }
    this.deps.onRoundApplied?.({
      ...outcome,
      jobs: enqueuedAt.length,
      enqueuedAt,
      durationMs: performance.now() - started,
    });
    this.announce(outcome.updates);
  }

  /**
   * The round's transaction. Meanwhile the jobs' locks are kept alive and, in a `draining` round,
   * each event's next jobs are fetched, so Redis works while Postgres does.
   */
  private async transact(works: EventWork[], targets: DrainTarget[], kind: RoundKind): Promise<RoundOutcome> {
    const { db, config } = this.deps;
    const renewal = new JobLockRenewal(works, this.workers, config.workerLockDurationMs);
    const prefetching = Promise.all(
      kind === 'draining' ? works.map((work) => this.topUp(work, 'next-round')) : [],
    );
    try {
      return await applyRound(db, targets, config.workerBatchSize, this.deps.outbox);
    } finally {
      renewal.stop();
      await prefetching;
    }
  }

  /** Sends the updates without holding up the round; `close` waits for the ones still in flight. */
  private announce(updates: PurchaseUpdate[]): void {
    if (updates.length === 0) return;
    const announced = this.deps.announce(updates).catch(() => undefined);
    this.announcing.add(announced);
    void announced.finally(() => this.announcing.delete(announced));
  }

  private async complete(work: EventWork, applied: Job[]): Promise<void> {
    const worker: QueueWorker = this.workers.get(work.eventId);
    await Promise.all(
      applied.map((job) =>
        worker.complete(job, work.token).catch((err: unknown) => {
          // Committed but not completed: the stalled-job check puts it back, and it changes nothing.
          this.deps.log.warn({ err, eventId: work.eventId, jobId: job.id }, 'completing a job failed');
        }),
      ),
    );
  }

  /**
   * Events with jobs in hand or work left go to the end of the line; the others rest (or, once the
   * drainer is closing, let go).
   */
  private async lineUpOrLetGo(works: EventWork[]): Promise<void> {
    const done = new Set(this.state === 'closing' ? works.filter((work) => work.idle) : []);
    await Promise.all([...done].map((work) => this.letGo(work)));
    for (const work of works)
      this.after(work, work.leaveRound(done.has(work) ? 'let-go' : 'kept', this.state));
  }

  private after(work: EventWork, next: AfterRound): void {
    if (next === 'forget') this.forget(work);
    else if (next === 'line-up') this.line.push(work);
    else if (next === 'rest') this.resting.set(work, performance.now());
  }

  /**
   * Events resting longer than a third of the lease let it go, as an idle event did at the end of its
   * round: in a round of their own as far as wake-ups go, so one that comes meanwhile lines them up
   * again instead of being lost.
   */
  private endRests(): void {
    const restedSince = performance.now() - this.deps.config.eventLeaseMs / 3;
    for (const [work, since] of this.resting) {
      if (since > restedSince) return;
      this.resting.delete(work);
      work.enterRound();
      void this.letGo(work).then(() => {
        this.after(work, work.leaveRound('let-go', this.state));
        this.pump();
      });
    }
  }

  /** Releases the event's lease once its jobs are completed, so the next holder never sees them active. */
  private async letGo(work: EventWork): Promise<void> {
    await work.completions();
    await work.lease?.release().catch(() => undefined);
  }

  private forget(work: EventWork): void {
    this.work.delete(work.eventId);
  }

  /**
   * Lets the rounds in progress finish, applies the jobs still in hand (taking no more), lets every
   * lease go and closes the queue workers.
   */
  async close(): Promise<void> {
    this.state = 'closing';
    clearInterval(this.restSweep);
    await Promise.all(this.rounds);
    while (this.line.length > 0) {
      await this.startRound(this.line.splice(0, MAX_EVENTS_PER_ROUND), 'finishing');
    }
    await Promise.all([...this.work.values()].map((work) => this.letGo(work)));
    await Promise.all(this.announcing);
    this.work.clear();
    this.resting.clear();
    await this.workers.close();
  }
}
