import { ACTIVE_STATUSES, waitlistLength, type EventRow, type Db } from '@ticketing/shared';
import { sql } from 'kysely';

/**
 * An event read with Postgres's clock at the time (`dbNow`): its sale state is judged by that clock.
 * `pendingTotalTickets`: the total of its latest resize not carried out yet (docs/running-a-sale.md).
 */
export type EventRowAt = EventRow & { readonly dbNow: Date; readonly pendingTotalTickets: number | null };

const dbNow = sql<Date>`statement_timestamp()`.as('dbNow');

/** Through the partial index of resizes not carried out: none, or a few per event. */
const pendingTotalTickets = sql<number | null>`(
  select r.total_tickets from event_resizes r
  where r.event_id = events.id and r.applied_at is null order by r.seq desc limit 1)`.as(
  'pendingTotalTickets',
);

export async function insertEvent(
  db: Db,
  event: {
    name: string;
    totalTickets: number;
    priceCents: number;
    currency: string;
    maxPerPurchase: number;
    holdSeconds: number;
    salesStartAt: Date | null;
    salesEndAt: Date | null;
    preQueueOpensAt: Date | null;
    drawSeed: Buffer | null;
    drawCommitment: string | null;
  },
): Promise<EventRowAt> {
  const row = await db
    .insertInto('events')
    .values(event)
    .returningAll()
    .returning(dbNow)
    .executeTakeFirstOrThrow();
  return { ...row, pendingTotalTickets: null };
}

export async function findEvent(db: Db, id: string): Promise<EventRowAt | undefined> {
  return db
    .selectFrom('events')
    .selectAll()
    .select([dbNow, pendingTotalTickets])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** How far the event's draw is decided: a primary-key read, for the positions of an on-sale. */
export async function findDrawProgress(
  db: Db,
  eventId: string,
): Promise<Pick<EventRow, 'drawnAt' | 'drawCursor' | 'drawFinishedAt'> | undefined> {
  return db
    .selectFrom('events')
    .select(['drawnAt', 'drawCursor', 'drawFinishedAt'])
    .where('id', '=', eventId)
    .executeTakeFirst();
}

/** The draw's published keys: every entrant's, in drawn order (ascending). */
export async function listDrawKeys(db: Db, eventId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('purchases')
    .select('drawKey')
    .where('eventId', '=', eventId)
    .where('drawKey', 'is not', null)
    .orderBy('drawKey')
    .execute();
  return rows.flatMap((row) => (row.drawKey === null ? [] : [row.drawKey]));
}

/** Purchases in each event's pre-queue now (before the draw: the entrants so far). */
export async function countPrequeued(db: Db, eventIds: readonly string[]): Promise<Map<string, number>> {
  if (eventIds.length === 0) return new Map();
  const { rows } = await sql<{ eventId: string; prequeued: number }>`
    select event_id, count(*)::integer as prequeued from purchases
    where status = 'prequeued' and event_id = any(${eventIds}::uuid[])
    group by event_id`.execute(db);
  return new Map(rows.map((row) => [row.eventId, row.prequeued]));
}

/**
 * Purchases withdrawn from each event's pre-queue before the start: cancelled at once, never decided,
 * so without the place in the queue (`cancel_seq`) every other cancellation has.
 */
export async function countPrequeueWithdrawals(
  db: Db,
  eventIds: readonly string[],
): Promise<Map<string, number>> {
  if (eventIds.length === 0) return new Map();
  const { rows } = await sql<{ eventId: string; withdrawn: number }>`
    select event_id, count(*)::integer as withdrawn from purchases
    where status = 'cancelled' and cancel_seq is null and event_id = any(${eventIds}::uuid[])
    group by event_id`.execute(db);
  return new Map(rows.map((row) => [row.eventId, row.withdrawn]));
}

/**
 * Keyset pagination in creation order; the cursor is the id of the last event already seen. The
 * comparison happens in Postgres so timestamps keep their full (microsecond) precision.
 */
export async function listEvents(db: Db, page: { limit: number; afterId?: string }): Promise<EventRowAt[]> {
  let query = db
    .selectFrom('events')
    .selectAll()
    .select([dbNow, pendingTotalTickets])
    .orderBy('createdAt')
    .orderBy('id')
    .limit(page.limit);
  if (page.afterId !== undefined) {
    const cursor = db.selectFrom('events').select(['createdAt', 'id']).where('id', '=', page.afterId);
    query = query.where(sql<boolean>`(created_at, id) > (${cursor})`);
  }
  return query.execute();
}

/** The newest events first: what the operations views (monitor, queue dashboard, metrics) look at. */
export async function listRecentEvents(db: Db, limit: number): Promise<EventRowAt[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .select([dbNow, pendingTotalTickets])
    .orderBy('createdAt', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** Purchases of a cancelled event its cancellation has not reached yet: every one still active. */
export async function countCancellationLeft(db: Db, eventId: string): Promise<number> {
  const row = await db
    .selectFrom('purchases')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('eventId', '=', eventId)
    .where('status', 'in', ACTIVE_STATUSES)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

export async function countWaitlist(db: Db, eventId: string): Promise<number> {
  const row = await db
    .selectFrom('events as e')
    .select(waitlistLength('e').as('count'))
    .where('e.id', '=', eventId)
    .executeTakeFirst();
  return row?.count ?? 0;
}

/**
 * Purchases held now, per event. Held purchases are few (a hold lasts minutes), and each is in one of
 * two partial indexes, by whether its expiry has a place in the queue yet: read through both.
 */
export async function countHeldPurchases(db: Db, eventIds: readonly string[]): Promise<Map<string, number>> {
  if (eventIds.length === 0) return new Map();
  const { rows } = await sql<{ eventId: string; held: number }>`
    select event_id, count(*)::integer as held from (
      select event_id from purchases
      where status = 'held' and expire_seq is null and event_id = any(${eventIds}::uuid[])
      union all
      select event_id from purchases
      where status = 'held' and expire_seq is not null and event_id = any(${eventIds}::uuid[])
    ) holds
    group by event_id`.execute(db);
  return new Map(rows.map((row) => [row.eventId, row.held]));
}
