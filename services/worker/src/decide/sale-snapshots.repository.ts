import { ACTIVE_STATUSES, sqlList, waitlistLength, type EventRow, type Tx } from '@ticketing/shared';
import { sql, type RawBuilder } from 'kysely';
import { targetArrays, type DrainTarget } from './target.js';

/**
 * An ending: a step of the event's queue other than a purchase's decision, with its place in it: a
 * cancellation of one purchase, the expiry of the holds the sweep found past their time together, a
 * resize (a new total) or the close of the sale. Cancellations and expiries end purchases and give
 * their tickets back; a resize may add tickets; the close ends the waiting list.
 */
export type Ending =
  | { readonly kind: 'cancel'; readonly seq: number; readonly purchaseId: string }
  | { readonly kind: 'expire'; readonly seq: number }
  | { readonly kind: 'resize'; readonly seq: number; readonly totalTickets: number }
  | { readonly kind: 'close'; readonly seq: number };

/** What a decision needs to know of a sale besides its event row. Read after the lock is taken. */
export interface SaleSnapshot {
  readonly eventId: string;
  readonly waitlistLength: number;
  /** The earliest ending up to the target not yet carried out. */
  readonly nextEnding: Ending | undefined;
}

interface EndingRow {
  endingKind: Ending['kind'] | null;
  endingPurchaseId: string | null;
  endingSeq: number | null;
  endingTotal: number | null;
}

/**
 * The event's first pending ending numbered after `afterSeq` and up to `upToSeq`, as a subquery of
 * one row at most: the earliest of each kind, each an index lookup (`purchases_pending_cancellation`,
 * `purchases_pending_expiry`, `event_resizes_pending`, the event's own row). Expiries are only looked
 * for where `withExpiries` holds (events with holds).
 */
function nextEndingQuery(
  eventId: RawBuilder<unknown>,
  afterSeq: RawBuilder<unknown>,
  upToSeq: RawBuilder<unknown>,
  withExpiries: RawBuilder<unknown>,
) {
  return sql`
    select * from (
      (select 'cancel' as kind, p.id, p.cancel_seq as seq, null::integer as total from purchases p
        where p.event_id = ${eventId} and p.cancel_seq > ${afterSeq} and p.cancel_seq <= ${upToSeq}
          and p.status in ${sqlList(ACTIVE_STATUSES)}
        order by p.cancel_seq limit 1)
      union all
      (select 'expire' as kind, p.id, p.expire_seq as seq, null::integer as total from purchases p
        where ${withExpiries} and p.event_id = ${eventId} and p.expire_seq > ${afterSeq}
          and p.expire_seq <= ${upToSeq} and p.status = 'held'
        order by p.expire_seq limit 1)
      union all
      (select 'resize' as kind, null::uuid, r.seq, r.total_tickets as total from event_resizes r
        where r.event_id = ${eventId} and r.applied_at is null and r.seq > ${afterSeq} and r.seq <= ${upToSeq}
        order by r.seq limit 1)
      union all
      (select 'close' as kind, null::uuid, c.close_seq as seq, null::integer as total from events c
        where c.id = ${eventId} and c.closed_at is null and c.close_seq > ${afterSeq}
          and c.close_seq <= ${upToSeq})
    ) ending
    order by ending.seq limit 1`;
}

/** Each target's waiting-list length and next pending ending, in one statement for all. */
export async function loadSaleSnapshots(
  tx: Tx,
  targets: readonly DrainTarget[],
): Promise<Map<string, SaleSnapshot>> {
  if (targets.length === 0) return new Map();
  const { eventIds, upToSeqs } = targetArrays(targets);
  const { rows } = await sql<{ eventId: string; waitlistLength: number } & EndingRow>`
    select t.event_id, ${waitlistLength('e')} as waitlist_length,
      r.kind as ending_kind, r.id as ending_purchase_id, r.seq as ending_seq, r.total as ending_total
    from unnest(${eventIds}::uuid[], ${upToSeqs}::bigint[]) as t(event_id, up_to_seq)
    join events e on e.id = t.event_id
    left join lateral (
      ${nextEndingQuery(sql.ref('t.event_id'), sql.lit(0), sql.ref('t.up_to_seq'), sql`e.hold_seconds > 0`)}
    ) r on true`.execute(tx);
  return new Map(
    rows.map((row) => [
      row.eventId,
      { eventId: row.eventId, waitlistLength: row.waitlistLength, nextEnding: toEnding(row) },
    ]),
  );
}

function toEnding(row: EndingRow): Ending | undefined {
  const seq = row.endingSeq;
  if (seq === null) return undefined;
  switch (row.endingKind) {
    case 'expire':
      return { kind: 'expire', seq };
    case 'resize':
      return row.endingTotal === null ? undefined : { kind: 'resize', seq, totalTickets: row.endingTotal };
    case 'close':
      return { kind: 'close', seq };
    case 'cancel':
      return row.endingPurchaseId === null
        ? undefined
        : { kind: 'cancel', seq, purchaseId: row.endingPurchaseId };
    case null:
      return undefined;
  }
}

/**
 * The event's next ending up to `upToSeq` after the one just carried out (at `afterSeq`), when no
 * purchase accepted between the two is still undecided: it can then be carried out in the same
 * round, in queue order. Read under the event's lock. Each search starts after `afterSeq`: the
 * endings just carried out are still in the indexes (their old row versions cannot be pruned before
 * the round commits), and a burst would otherwise walk past all of them again for each one.
 */
export async function nextEndingInLine(
  tx: Tx,
  event: Pick<EventRow, 'id' | 'holdSeconds'>,
  afterSeq: number,
  upToSeq: number,
): Promise<Ending | undefined> {
  const { rows } = await sql<EndingRow & { undecided: boolean }>`
    select r.kind as ending_kind, r.id as ending_purchase_id, r.seq as ending_seq, r.total as ending_total,
      exists (
        select 1 from purchases q
        where q.event_id = ${event.id} and q.status = 'queued' and q.seq > ${afterSeq} and q.seq < r.seq
      ) as undecided
    from (
      ${nextEndingQuery(sql`${event.id}::uuid`, sql`${afterSeq}::bigint`, sql`${upToSeq}::bigint`, sql.lit(event.holdSeconds > 0))}
    ) r`.execute(tx);
  const row = rows[0];
  return row === undefined || row.undecided ? undefined : toEnding(row);
}
