import { ACTIVE_STATUSES, sqlList, waitlistLength, type EventRow, type Tx } from '@ticketing/shared';
import { sql } from 'kysely';
import { targetArrays, type DrainTarget } from './target.js';

/**
 * An ending: a request that ends purchases and gives their tickets back, with its place in the
 * event's queue: a cancellation of one purchase, or the expiry of the holds the sweep found past
 * their time together.
 */
export type Ending =
  | { readonly kind: 'cancel'; readonly seq: number; readonly purchaseId: string }
  | { readonly kind: 'expire'; readonly seq: number };

/** What a decision needs to know of a sale besides its event row. Read after the lock is taken. */
export interface SaleSnapshot {
  readonly eventId: string;
  readonly waitlistLength: number;
  /** The earliest cancellation or expiry up to the target not yet carried out. */
  readonly nextEnding: Ending | undefined;
}

/**
 * Each target's waiting-list length and next pending ending, in one statement for all. Expiries are
 * only looked for on events with holds: on the others the branch is skipped outright.
 */
export async function loadSaleSnapshots(
  tx: Tx,
  targets: readonly DrainTarget[],
): Promise<Map<string, SaleSnapshot>> {
  if (targets.length === 0) return new Map();
  const { eventIds, upToSeqs } = targetArrays(targets);
  const { rows } = await sql<{
    eventId: string;
    waitlistLength: number;
    endingKind: Ending['kind'] | null;
    endingPurchaseId: string | null;
    endingSeq: number | null;
  }>`
    select t.event_id, ${waitlistLength('e')} as waitlist_length,
      r.kind as ending_kind, r.id as ending_purchase_id, r.seq as ending_seq
    from unnest(${eventIds}::uuid[], ${upToSeqs}::bigint[]) as t(event_id, up_to_seq)
    join events e on e.id = t.event_id
    left join lateral (
      select * from (
        (select 'cancel' as kind, p.id, p.cancel_seq as seq from purchases p
          where p.event_id = t.event_id and p.cancel_seq <= t.up_to_seq
            and p.status in ${sqlList(ACTIVE_STATUSES)}
          order by p.cancel_seq limit 1)
        union all
        (select 'expire' as kind, p.id, p.expire_seq as seq from purchases p
          where e.hold_seconds > 0 and p.event_id = t.event_id and p.expire_seq <= t.up_to_seq
            and p.status = 'held'
          order by p.expire_seq limit 1)
      ) ending
      order by ending.seq limit 1
    ) r on true`.execute(tx);
  return new Map(
    rows.map((row) => [
      row.eventId,
      { eventId: row.eventId, waitlistLength: row.waitlistLength, nextEnding: toEnding(row) },
    ]),
  );
}

function toEnding(row: {
  endingKind: Ending['kind'] | null;
  endingPurchaseId: string | null;
  endingSeq: number | null;
}): Ending | undefined {
  if (row.endingSeq === null || row.endingPurchaseId === null) return undefined;
  return row.endingKind === 'expire'
    ? { kind: 'expire', seq: row.endingSeq }
    : { kind: 'cancel', seq: row.endingSeq, purchaseId: row.endingPurchaseId };
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
  const expiries =
    event.holdSeconds > 0
      ? sql`union all
        (select 'expire' as kind, p.id, p.expire_seq as seq from purchases p
          where p.event_id = ${event.id} and p.expire_seq > ${afterSeq} and p.expire_seq <= ${upToSeq}
            and p.status = 'held'
          order by p.expire_seq limit 1)`
      : sql``;
  const { rows } = await sql<{
    endingKind: Ending['kind'];
    endingPurchaseId: string;
    endingSeq: number;
    undecided: boolean;
  }>`
    select r.kind as ending_kind, r.id as ending_purchase_id, r.seq as ending_seq,
      exists (
        select 1 from purchases q
        where q.event_id = ${event.id} and q.status = 'queued' and q.seq > ${afterSeq} and q.seq < r.seq
      ) as undecided
    from (
      select * from (
        (select 'cancel' as kind, p.id, p.cancel_seq as seq from purchases p
          where p.event_id = ${event.id} and p.cancel_seq > ${afterSeq} and p.cancel_seq <= ${upToSeq}
            and p.status in ${sqlList(ACTIVE_STATUSES)}
          order by p.cancel_seq limit 1)
        ${expiries}
      ) ending
      order by ending.seq limit 1
    ) r`.execute(tx);
  const row = rows[0];
  return row === undefined || row.undecided ? undefined : toEnding(row);
}
