import { UnrecoverableError } from 'bullmq';
import { parseJob, type Database, type TicketingJob } from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';
import { drainEvent } from './drain-event.js';

/**
 * Applies the requests a batch of one event's jobs stands for, and every request of the event
 * accepted before them, in one transaction per `batchSize` requests. Returns the purchases whose
 * state changed. Jobs are at-least-once: a request already applied is skipped.
 */
export async function applyJobs(
  db: Kysely<Database>,
  eventId: string,
  jobs: readonly TicketingJob[],
  batchSize: number,
): Promise<string[]> {
  if (jobs.length === 0) return [];
  return drainEvent(db, eventId, lastSeqOf(jobs), batchSize);
}

/** The latest request a batch of jobs stands for: applying it applies every earlier one of the event. */
export const lastSeqOf = (jobs: readonly TicketingJob[]): number => Math.max(...jobs.map((job) => job.seq));

/** Applies one job's payload; a payload that is not a job fails for good rather than being retried. */
export async function processJob(db: Kysely<Database>, data: unknown, batchSize = 500): Promise<string[]> {
  const job = parseJob(data);
  if (job === undefined) throw new UnrecoverableError('Malformed job payload');
  return applyJobs(db, job.eventId, [job], batchSize);
}

/** The newest sequence number handed out: everything accepted so far is at or below it. */
export async function latestSeq(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ lastValue: number }>`select last_value from purchases_seq_seq`.execute(db);
  return rows[0]?.lastValue ?? 0;
}
