import { hasPendingCancellation, isAwaitingDecision, type Database } from '@ticketing/shared';
import type { Kysely } from 'kysely';

/**
 * Events with requests pending in Postgres, whatever Redis holds: purchases awaiting their decision or
 * cancellations awaiting being carried out. Every worker asks this periodically and drains what it
 * finds from Postgres, so work whose job or wake-up Redis lost is still done.
 */
export async function findEventsWithPendingWork(db: Kysely<Database>): Promise<string[]> {
  const [awaiting, cancelling] = await Promise.all([
    db.selectFrom('purchases').select('eventId').distinct().where(isAwaitingDecision).execute(),
    db.selectFrom('purchases').select('eventId').distinct().where(hasPendingCancellation).execute(),
  ]);
  return [...awaiting, ...cancelling].map(({ eventId }) => eventId);
}
