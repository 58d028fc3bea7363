import {
  hasPendingCancellation,
  hasPendingExpiry,
  isAwaitingDecision,
  unsafeSwitches,
  type Database,
} from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';

/**
 * Events with requests pending in Postgres, whatever Redis holds: purchases awaiting their decision,
 * cancellations or expiries awaiting being carried out (expiries have no jobs: this is how they are
 * found after a crash), and sales whose start has passed (by Postgres's clock) with their pre-queue not
 * all decided: pre-queued purchases have no jobs, so this is what starts the draw, within a scan's
 * interval of the start. Every worker asks this periodically and drains what it finds from Postgres, so
 * work whose job or wake-up Redis lost is still done.
 */
export async function findEventsWithPendingWork(db: Kysely<Database>): Promise<string[]> {
  if (unsafeSwitches['no-pending-scan']) return [];
  const eventsWhere = (pending: typeof isAwaitingDecision) =>
    db.selectFrom('purchases').select('eventId').distinct().where(pending).execute();
  const found = await Promise.all([
    eventsWhere(isAwaitingDecision),
    eventsWhere(hasPendingCancellation),
    eventsWhere(hasPendingExpiry),
    db
      .selectFrom('events')
      .select('id as eventId')
      .where('salesStartAt', 'is not', null)
      .where('drawFinishedAt', 'is', null)
      .$if(!unsafeSwitches['decide-before-start'], (query) =>
        query.where('salesStartAt', '<=', sql<Date>`now()`),
      )
      .execute(),
  ]);
  return [...new Set(found.flat().map(({ eventId }) => eventId))];
}
