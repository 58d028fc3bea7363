import { UnrecoverableError } from 'bullmq';
import { parseJob, type Database } from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';
import { drainEvent } from './drain-event.js';

/**
 * Runs one job of an event queue and returns the purchases whose state changed. A job asks for its
 * request to be applied; the worker applies every pending request of the event accepted so far, in
 * order, so under load one transaction serves many jobs and the ones after it find nothing to do.
 * Jobs are at-least-once: a job that runs twice finds its request applied and changes nothing.
 */
export async function processJob(db: Kysely<Database>, data: unknown): Promise<string[]> {
  const job = parseJob(data);
  if (job === undefined) throw new UnrecoverableError('Malformed job payload');

  const purchase = await db
    .selectFrom('purchases')
    .select(['status', 'eventId', 'cancelSeq'])
    .where('id', '=', job.purchaseId)
    .executeTakeFirst();
  if (purchase === undefined || purchase.eventId !== job.eventId) return [];
  const pending =
    job.kind === 'purchase'
      ? purchase.status === 'queued'
      : purchase.cancelSeq !== null && purchase.status !== 'cancelled' && purchase.status !== 'rejected';
  if (!pending) return [];

  const { rows } = await sql<{ lastValue: number }>`
    select last_value from purchases_seq_seq`.execute(db);
  return drainEvent(db, job.eventId, rows[0]?.lastValue ?? 0);
}
