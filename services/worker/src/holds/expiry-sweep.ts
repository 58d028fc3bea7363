import { takeAcceptingLocks, isDueHold, nextQueueSeq, type Database } from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';

/**
 * Events given their expiries' places in one transaction. Each takes an advisory lock, and those count
 * against Postgres' shared lock table, so a sweep over many events goes in slices.
 */
const EVENTS_PER_TRANSACTION = 64;
const EVENTS_PER_SWEEP = 1_000;

/**
 * Gives holds past their time (by the database's clock) their expiry's place in the event's queue:
 * one number per event from the purchase sequence, drawn under the event's accepting lock like a
 * purchase's or a cancellation's, so the expiry comes after every request accepted before it and
 * before every one accepted after. The holds of one event found together share the number: they end
 * at the same point of the queue. Any worker may sweep; the lock and the re-checked condition give
 * each hold one number only. Returns how many holds got their expiry queued; the scan of pending work
 * then finds their events.
 */
export async function queueDueExpiries(db: Kysely<Database>): Promise<number> {
  const due = await db
    .selectFrom('purchases')
    .select('eventId')
    .distinct()
    .where(isDueHold)
    .limit(EVENTS_PER_SWEEP)
    .execute();
  let queued = 0;
  for (let start = 0; start < due.length; start += EVENTS_PER_TRANSACTION) {
    const eventIds = due.slice(start, start + EVENTS_PER_TRANSACTION).map((row) => row.eventId);
    queued += await queueExpiries(db, eventIds);
  }
  return queued;
}

async function queueExpiries(db: Kysely<Database>, eventIds: readonly string[]): Promise<number> {
  return db.transaction().execute(async (tx) => {
    await takeAcceptingLocks(tx, eventIds);
    // Checked again under the locks: a hold confirmed, cancelled or numbered meanwhile is left alone.
    // One number per event: a CTE with a volatile function is evaluated once, not per joined row.
    const numbered = await tx
      .with(
        'expiry',
        () =>
          sql<{ eventId: string; seq: number }>`(
          select event_id, ${nextQueueSeq()} as seq from unnest(${eventIds}::uuid[]) as e(event_id)
        )`,
      )
      .updateTable('purchases')
      .from('expiry')
      .set((eb) => ({ expireSeq: eb.ref('expiry.seq') }))
      .whereRef('purchases.eventId', '=', 'expiry.eventId')
      .where(isDueHold)
      .executeTakeFirst();
    return Number(numbered.numUpdatedRows);
  });
}
