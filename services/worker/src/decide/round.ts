import {
  NO_OUTBOX,
  saleWindowState,
  unsafeSwitches,
  type Database,
  type EventRow,
  type OutboxRecorder,
  type PurchaseUpdate,
} from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';
import { applyCancellation } from './apply-cancellation.js';
import { applyExpiry } from './apply-expiry.js';
import { decideSales, type SaleToDecide } from './decide-sales.js';
import { makeDraws, type DrawMade } from './draw.repository.js';
import { lockEvents, type LockedEvent } from './events.repository.js';
import { loadSaleSnapshots, nextEndingInLine, type Ending } from './sale-snapshots.repository.js';
import { toPurchaseUpdate, type StatusChange } from './status-change.js';
import type { DrainTarget } from './target.js';

/**
 * Endings of one event carried out in one round at most. Each touches the event's row several
 * times, and within one transaction its old versions cannot be pruned: past a few dozen endings,
 * every touch walks more of them (a burst of 1,000 cancellations read 189 buffers per cancellation
 * in rounds of 500, 136 in rounds of 50, 133 one per round; docs/performance.md).
 */
const ENDINGS_PER_ROUND = 50;

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
  /** Draws this round made (sales that started). */
  readonly draws: readonly DrawMade[];
}

/**
 * Nothing of an event is decided before its sale start, by Postgres's clock at the round's start:
 * whatever jobs or wake-ups exist, a round leaves the event alone until then (the scan of Postgres
 * wakes it once the start has passed).
 */
const isPastStart = (event: LockedEvent): boolean =>
  event.salesStartAt === null || saleWindowState(event, event.roundNow) !== 'prequeue';
const hasStarted = (event: LockedEvent): boolean =>
  unsafeSwitches['decide-before-start'] || isPastStart(event);

/**
 * Applies, in one transaction, the pending requests of several events accepted up to each one's
 * target, strictly in acceptance order per event: purchases to decide, cancellations and expiries to
 * carry out. Each event gets one step: up to `batchSize` purchases, or the purchases before its next
 * ending (a cancellation or an expiry), then that ending and those right after it in the queue (with
 * no purchase between them), up to `batchSize` and ENDINGS_PER_ROUND endings. Anything already applied is skipped,
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
      draws: [],
    };
  return db.transaction().execute(async (tx) => {
    const locked = await lockEvents(
      tx,
      targets.map((target) => target.eventId),
    );
    // Decisions are stamped when they are made, and never before the round's time by Postgres's clock
    // (the one a sale start is checked against), should this process's clock be behind it.
    const decidedAt = new Date(Math.max(Date.now(), locked[0]?.roundNow.getTime() ?? 0));
    const events = locked.filter(hasStarted);
    // An event's draw comes first in its queue order: at its first round after the start.
    const draws = await makeDraws(
      tx,
      events.filter((event) => event.salesStartAt !== null && event.drawnAt === null).map((e) => e.id),
    );
    const drawing = new Set(
      events.filter((event) => event.salesStartAt !== null && event.drawFinishedAt === null).map((e) => e.id),
    );
    // Read under the locks: nothing another worker committed before them is missed.
    const snapshots = await loadSaleSnapshots(tx, targets);
    const byEvent = new Map(targets.map((target) => [target.eventId, target]));

    const sales: SaleToDecide[] = [];
    const endings: { event: EventRow; ending: Ending }[] = [];
    for (const event of events) {
      const snapshot = snapshots.get(event.id);
      const target = byEvent.get(event.id);
      if (snapshot === undefined || target === undefined) continue;
      const { upToSeq, decidedThrough = 0 } = target;
      if (drawing.has(event.id)) {
        // The pre-queue first, every entrant of it before any request of the queue.
        sales.push({
          event,
          waitlistLength: snapshot.waitlistLength,
          upToSeq,
          decidedThrough,
          draw: { cursor: event.drawCursor, mayFinish: isPastStart(event) },
        });
        continue;
      }
      const ending = snapshot.nextEnding;
      // Purchases accepted before the next ending are decided before it is carried out.
      sales.push({
        event,
        waitlistLength: snapshot.waitlistLength,
        upToSeq: ending === undefined ? upToSeq : ending.seq - 1,
        decidedThrough,
      });
      if (ending !== undefined) endings.push({ event, ending });
    }

    const decided = await decideSales(tx, sales, batchSize, decidedAt);
    const changes: StatusChange[] = [...decided.changes];
    const unfinished = new Set(decided.unfinished.keys());
    const progress = new Map(
      sales
        .filter((sale) => sale.draw === undefined)
        .map((sale) => [sale.event.id, decided.unfinished.get(sale.event.id) ?? sale.upToSeq]),
    );
    let promotions = 0;
    let heldPromotions = 0;
    for (const { event, ending } of endings) {
      const eventId = event.id;
      if (unfinished.has(eventId)) continue;
      const upToSeq = byEvent.get(eventId)?.upToSeq ?? ending.seq;
      // Endings one after another in the queue (a burst of cancellations) are carried out together,
      // a few dozen to a round: one transaction for many, still in queue order.
      let next: Ending | undefined = ending;
      for (let carried = 1; next !== undefined; carried += 1) {
        const { ended, promoted } =
          next.kind === 'cancel'
            ? await applyCancellation(tx, eventId, next.purchaseId, decidedAt)
            : await applyExpiry(tx, eventId, next.seq, decidedAt);
        changes.push(...ended, ...promoted);
        promotions += promoted.length;
        heldPromotions += promoted.filter((change) => change.status === 'held').length;
        progress.set(eventId, next.seq);
        next =
          carried < Math.min(batchSize, ENDINGS_PER_ROUND)
            ? await nextEndingInLine(tx, event, next.seq, upToSeq)
            : undefined;
      }
      // Requests after the endings, or further endings, wait for the next round.
      unfinished.add(eventId);
    }
    await outbox.record(tx, changes, decidedAt);
    if (draws.length > 0) await outbox.recordSaleStarts?.(tx, draws, decidedAt);
    return {
      updates: changes.map((change) => toPurchaseUpdate(change, decidedAt)),
      unfinished,
      progress: [...progress].map(([eventId, upToSeq]) => ({ eventId, upToSeq })),
      promotions,
      heldPromotions,
      decidedThrough: decided.decidedThrough,
      draws,
    };
  });
}

/** The newest sequence number handed out: everything accepted so far is at or below it. */
export async function latestSeq(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ lastValue: number }>`select last_value from purchases_seq_seq`.execute(db);
  return rows[0]?.lastValue ?? 0;
}
