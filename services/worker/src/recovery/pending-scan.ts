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
 * found after a crash), sales whose start has passed (by Postgres's clock) with their pre-queue not
 * all decided: pre-queued purchases have no jobs, so this is what starts the draw, within a scan's
 * interval of the start; and what operators asked of sales (docs/running-a-sale.md): resizes and
 * closes to carry out, cancellations of events not finished. A paused event is only found for its
 * expiries (nothing else is decided until the resume, which wakes it again); a cancelled one only for
 * its cancellation, which makes whatever else was pending moot. Every worker asks this periodically
 * and drains what it finds from Postgres, so work whose job or wake-up Redis lost is still done.
 */
export async function findEventsWithPendingWork(db: Kysely<Database>): Promise<string[]> {
  if (unsafeSwitches['no-pending-scan']) return [];
  const eventsWhere = (pending: typeof isAwaitingDecision) =>
    db.selectFrom('purchases').select('eventId').distinct().where(pending).execute();
  const running = db
    .selectFrom('events')
    .select('id as eventId')
    .where('pausedAt', 'is', null)
    .where('cancelledAt', 'is', null);
  const [decisions, cancellations, expiries, draws, closes, resizes, eventCancellations] = await Promise.all([
    eventsWhere(isAwaitingDecision),
    eventsWhere(hasPendingCancellation),
    eventsWhere(hasPendingExpiry),
    running
      .where('salesStartAt', 'is not', null)
      .where('drawFinishedAt', 'is', null)
      .$if(!unsafeSwitches['decide-before-start'], (query) =>
        query.where('salesStartAt', '<=', sql<Date>`now()`),
      )
      .execute(),
    running.where('closeSeq', 'is not', null).where('closedAt', 'is', null).execute(),
    db.selectFrom('eventResizes').select('eventId').distinct().where('appliedAt', 'is', null).execute(),
    db
      .selectFrom('events')
      .select('id as eventId')
      .where('cancelledAt', 'is not', null)
      .where('cancellationFinishedAt', 'is', null)
      .execute(),
  ]);
  const [notHeldBack, notCancelled] = await Promise.all([
    runningAmong(db, [...decisions, ...cancellations, ...resizes]),
    notCancelledAmong(db, expiries),
  ]);
  return [...new Set([...notHeldBack, ...notCancelled, ...draws, ...closes, ...eventCancellations].map(id))];
}

const id = ({ eventId }: { eventId: string }) => eventId;

/** Of these events, those neither paused nor cancelled. */
async function runningAmong(db: Kysely<Database>, found: readonly { eventId: string }[]) {
  if (found.length === 0) return [];
  return db
    .selectFrom('events')
    .select('id as eventId')
    .where('id', '=', (eb) => eb.fn.any(eb.val([...new Set(found.map(id))])))
    .where('pausedAt', 'is', null)
    .where('cancelledAt', 'is', null)
    .execute();
}

/** Of these events, those not cancelled (paused ones still have their holds run out). */
async function notCancelledAmong(db: Kysely<Database>, found: readonly { eventId: string }[]) {
  if (found.length === 0) return [];
  return db
    .selectFrom('events')
    .select('id as eventId')
    .where('id', '=', (eb) => eb.fn.any(eb.val([...new Set(found.map(id))])))
    .where('cancelledAt', 'is', null)
    .execute();
}
