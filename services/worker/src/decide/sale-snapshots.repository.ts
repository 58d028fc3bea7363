import { activeStatusesArray, waitlistLength } from '@ticketing/shared';
import { sql } from 'kysely';
import { targetArrays, type DrainTarget } from './target.js';
import type { Tx } from './tx.js';

/** What a decision needs to know of a sale besides its event row. Read after the lock is taken. */
export interface SaleSnapshot {
  readonly eventId: string;
  readonly waitlistLength: number;
  /** The earliest cancellation requested up to the target and not yet carried out. */
  readonly nextCancellation: { readonly purchaseId: string; readonly cancelSeq: number } | undefined;
}

/** Each target's waiting-list length and next pending cancellation, in one statement for all. */
export async function loadSaleSnapshots(
  tx: Tx,
  targets: readonly DrainTarget[],
): Promise<Map<string, SaleSnapshot>> {
  if (targets.length === 0) return new Map();
  const { eventIds, upToSeqs } = targetArrays(targets);
  const { rows } = await sql<{
    eventId: string;
    waitlistLength: number;
    cancelPurchaseId: string | null;
    cancelSeq: number | null;
  }>`
    select t.event_id, ${waitlistLength('e')} as waitlist_length,
      c.id as cancel_purchase_id, c.cancel_seq
    from unnest(${eventIds}::uuid[], ${upToSeqs}::bigint[]) as t(event_id, up_to_seq)
    join events e on e.id = t.event_id
    left join lateral (
      select p.id, p.cancel_seq from purchases p
      where p.event_id = t.event_id and p.cancel_seq <= t.up_to_seq
        and p.status = any(${activeStatusesArray()})
      order by p.cancel_seq limit 1
    ) c on true`.execute(tx);
  return new Map(
    rows.map((row) => [
      row.eventId,
      {
        eventId: row.eventId,
        waitlistLength: row.waitlistLength,
        nextCancellation:
          row.cancelPurchaseId === null || row.cancelSeq === null
            ? undefined
            : { purchaseId: row.cancelPurchaseId, cancelSeq: row.cancelSeq },
      },
    ]),
  );
}
