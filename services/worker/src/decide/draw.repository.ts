import { takeAcceptingLocks, unsafeSwitches, type Tx } from '@ticketing/shared';
import { sql } from 'kysely';
import type { QueuedPurchase } from './purchases.repository.js';

/** A draw made by this round: the pre-queue closed, the seed is revealed from now on. */
export interface DrawMade {
  readonly eventId: string;
  readonly commitment: string;
  readonly entrants: number;
  readonly salesStartAt: Date;
}

/**
 * Makes the draws of events whose sale has started, once: waits for each event's accepting lock (a
 * purchase numbered before the start, by the clock of its statement under that lock, may still be
 * committing; any later one is numbered after the start and queued, not pre-queued), then records the
 * draw with its entrants, the purchases pre-queued now. The draw itself is fixed by the entrants' keys
 * (HMAC of the seed and their ids, stored when they were accepted), so there is nothing to shuffle or
 * rewrite: deciding the pre-queue in ascending key is the draw, however many rounds it takes and
 * whichever worker runs them. Returns the draws made here (none if another round made them first).
 */
export async function makeDraws(tx: Tx, eventIds: readonly string[]): Promise<DrawMade[]> {
  if (eventIds.length === 0) return [];
  await takeAcceptingLocks(tx, eventIds);
  const { rows } = await sql<DrawMade>`
    update events e
    set drawn_at = now(), draw_entrants = (
      select count(*) from purchases p where p.event_id = e.id and p.status = 'prequeued')
    where e.id = any(${eventIds}::uuid[]) and e.drawn_at is null
    returning e.id as event_id, e.draw_commitment as commitment, e.draw_entrants as entrants,
      e.sales_start_at`.execute(tx);
  return rows;
}

/** Where each event's pre-queue is to be decided from: after the last key decided. */
export interface DrawTarget {
  readonly eventId: string;
  readonly cursor: string | null;
}

/** The negative control's order: arrival (`seq`) instead of the draw. */
const drawOrder = unsafeSwitches['prequeue-arrival-order'] ? sql`q.seq` : sql`q.draw_key`;
const afterCursor =
  unsafeSwitches['prequeue-arrival-order'] || unsafeSwitches['decide-before-start']
    ? sql`true`
    : sql`q.draw_key > coalesce(t.cursor, '')`;

/**
 * The next pre-queued purchases of each event in drawn order (ascending key), at most `limit` per
 * event, from after the event's cursor: the index walk starts there instead of at entries decided
 * since the last vacuum. As for queued purchases, whether each buyer already holds an active purchase
 * is an index probe per purchase.
 */
export async function findPrequeuedPurchases(
  tx: Tx,
  targets: readonly DrawTarget[],
  limit: number,
): Promise<(QueuedPurchase & { drawKey: string })[]> {
  if (targets.length === 0) return [];
  const { rows } = await sql<QueuedPurchase & { drawKey: string }>`
    select p.id, p.event_id, p.seq, p.user_id, p.quantity, p.join_waitlist, p.draw_key,
      a.placed is not null as user_placed
    from unnest(${targets.map((t) => t.eventId)}::uuid[], ${targets.map((t) => t.cursor)}::text[])
      as t(event_id, cursor)
    cross join lateral (
      select q.id, q.event_id, q.user_id, q.quantity, q.join_waitlist, q.seq, q.draw_key from purchases q
      where q.event_id = t.event_id and q.status = 'prequeued' and ${afterCursor}
      order by ${drawOrder} limit ${limit}
    ) p
    left join lateral (
      select true as placed from purchases a
      where a.event_id = p.event_id and a.user_id = p.user_id and a.status in ('held', 'confirmed', 'waitlisted')
      limit 1
    ) a on true
    order by p.event_id, ${unsafeSwitches['prequeue-arrival-order'] ? sql`p.seq` : sql`p.draw_key`}`.execute(
    tx,
  );
  return rows;
}

/**
 * Moves each event's cursor past the keys this round decided; an event whose round found fewer than a
 * batch has its whole pre-queue decided (`draw_finished_at`), and its queue goes on in `seq` order.
 */
export async function advanceDraws(
  tx: Tx,
  progress: readonly { eventId: string; cursor: string | null; finished: boolean }[],
): Promise<void> {
  if (progress.length === 0) return;
  await sql`
    update events e
    set draw_cursor = coalesce(d.cursor, e.draw_cursor),
      draw_finished_at = case when d.finished then now() else e.draw_finished_at end
    from unnest(
      ${progress.map((p) => p.eventId)}::uuid[], ${progress.map((p) => p.cursor)}::text[],
      ${progress.map((p) => p.finished)}::boolean[]
    ) as d(event_id, cursor, finished)
    where e.id = d.event_id`.execute(tx);
}
