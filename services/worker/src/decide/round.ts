import { NO_OUTBOX, type Database, type OutboxRecorder, type PurchaseUpdate } from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';
import { applyCancellation } from './apply-cancellation.js';
import { applyExpiry } from './apply-expiry.js';
import { decideSales, type SaleToDecide } from './decide-sales.js';
import { lockEvents } from './events.repository.js';
import { loadSaleSnapshots, type Ending } from './sale-snapshots.repository.js';
import { toPurchaseUpdate, type StatusChange } from './status-change.js';
import type { DrainTarget } from './target.js';

export interface RoundOutcome {
  /** The purchases whose state changed, in the order they changed. */
  readonly updates: PurchaseUpdate[];
  /** Events with more to apply up to their target: they need another round. */
  readonly unfinished: ReadonlySet<string>;
  /** Per event, every request accepted up to `upToSeq` is now applied. */
  readonly progress: readonly DrainTarget[];
  /** Of the confirmations and holds, those that came off a waiting list. */
  readonly promotions: number;
  /** Of the promotions, those that became holds (on events with holds). */
  readonly heldPromotions: number;
  /** Per event, the newest purchase decided: it and every purchase before it are decided now. */
  readonly decidedThrough: ReadonlyMap<string, number>;
}

/**
 * Applies, in one transaction, the pending requests of several events accepted up to each one's
 * target, strictly in acceptance order per event: purchases to decide, cancellations and expiries to
 * carry out. Each event gets one step: up to `batchSize` purchases, or the purchases before its next
 * ending (a cancellation or an expiry) and then that ending. Anything already applied is skipped,
 * so running a round twice, or in two workers at once, changes nothing the second time. The changes
 * are recorded in `outbox` in the same transaction, for webhooks.
 */
export async function applyRound(
  db: Kysely<Database>,
  targets: readonly DrainTarget[],
  batchSize: number,
  outbox: OutboxRecorder = NO_OUTBOX,
): Promise<RoundOutcome> {
  if (targets.length === 0)
    return {
      updates: [],
      unfinished: new Set(),
      progress: [],
      promotions: 0,
      heldPromotions: 0,
      decidedThrough: new Map(),
    };
  return db.transaction().execute(async (tx) => {
    const decidedAt = new Date();
    const events = await lockEvents(
      tx,
      targets.map((target) => target.eventId),
    );
    // Read under the locks: nothing another worker committed before them is missed.
    const snapshots = await loadSaleSnapshots(tx, targets);
    const byEvent = new Map(targets.map((target) => [target.eventId, target]));

    const sales: SaleToDecide[] = [];
    const endings: { eventId: string; ending: Ending }[] = [];
    for (const event of events) {
      const snapshot = snapshots.get(event.id);
      const target = byEvent.get(event.id);
      if (snapshot === undefined || target === undefined) continue;
      const { upToSeq, decidedThrough = 0 } = target;
      const ending = snapshot.nextEnding;
      // Purchases accepted before the next ending are decided before it is carried out.
      sales.push({
        event,
        waitlistLength: snapshot.waitlistLength,
        upToSeq: ending === undefined ? upToSeq : ending.seq - 1,
        decidedThrough,
      });
      if (ending !== undefined) endings.push({ eventId: event.id, ending });
    }

    const decided = await decideSales(tx, sales, batchSize, decidedAt);
    const changes: StatusChange[] = [...decided.changes];
    const unfinished = new Set(decided.unfinished.keys());
    const progress = new Map(
      sales.map((sale) => [sale.event.id, decided.unfinished.get(sale.event.id) ?? sale.upToSeq]),
    );
    let promotions = 0;
    let heldPromotions = 0;
    for (const { eventId, ending } of endings) {
      if (unfinished.has(eventId)) continue;
      const { ended, promoted } =
        ending.kind === 'cancel'
          ? await applyCancellation(tx, eventId, ending.purchaseId, decidedAt)
          : await applyExpiry(tx, eventId, ending.seq, decidedAt);
      changes.push(...ended, ...promoted);
      promotions += promoted.length;
      heldPromotions += promoted.filter((change) => change.status === 'held').length;
      progress.set(eventId, ending.seq);
      // Requests after the ending, or further endings, wait for the next round.
      unfinished.add(eventId);
    }
    await outbox.record(tx, changes, decidedAt);
    return {
      updates: changes.map((change) => toPurchaseUpdate(change, decidedAt)),
      unfinished,
      progress: [...progress].map(([eventId, upToSeq]) => ({ eventId, upToSeq })),
      promotions,
      heldPromotions,
      decidedThrough: decided.decidedThrough,
    };
  });
}

/** The newest sequence number handed out: everything accepted so far is at or below it. */
export async function latestSeq(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ lastValue: number }>`select last_value from purchases_seq_seq`.execute(db);
  return rows[0]?.lastValue ?? 0;
}
