import {
  freedTickets,
  NO_OUTBOX,
  saleWindowState,
  unsafeSwitches,
  type Database,
  type EventChange,
  type FreedTickets,
  type OutboxRecorder,
  type PurchaseUpdate,
  type Tx,
} from '@ticketing/shared';
import { sql, type Kysely } from 'kysely';
import { applyCancellation } from './apply-cancellation.js';
import { applyClose } from './apply-close.js';
import { applyExpiry } from './apply-expiry.js';
import { applyResize } from './apply-resize.js';
import { cancelEventBatch, EVENT_CANCELLATION_BATCH } from './cancel-event.js';
import { decideSales, type SaleToDecide } from './decide-sales.js';
import { makeDraws, type DrawMade } from './draw.repository.js';
import type { Ended } from './ended.js';
import { lockEvents, type LockedEvent } from './events.repository.js';
import { promoteWaitlist } from './promote-waitlist.js';
import { findPendingExpiries } from './purchases.repository.js';
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
 * target, strictly in acceptance order per event: purchases to decide, cancellations, expiries,
 * resizes and closes to carry out. Each event gets one step: up to `batchSize` purchases, or the
 * purchases before its next ending, then that ending and those right after it in the queue (with no
 * purchase between them), up to `batchSize` and ENDINGS_PER_ROUND endings. Before that, an event whose
 * waiting list could not get free tickets (it was paused) is promoted. A cancelled event's step is the
 * next batch of its cancellation instead, whatever else is pending; a paused event's is only its
 * expiries. Anything already applied is skipped, so running a round twice, or in two workers at once,
 * changes nothing the second time. The changes are recorded in `outbox` in the same transaction, for
 * webhooks.
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
    const byEvent = new Map(targets.map((target) => [target.eventId, target]));
    const changes: StatusChange[] = [];
    const eventChanges: EventChange[] = [];
    const unfinished = new Set<string>();
    const progress = new Map<string, number>();
    let promotions = 0;
    let heldPromotions = 0;
    const countPromotions = (promoted: readonly StatusChange[]) => {
      promotions += promoted.length;
      heldPromotions += promoted.filter((change) => change.status === 'held').length;
    };

    // A cancellation overrides every other step: its next batch, until it is finished; after that
    // there is nothing left to do (whatever was pending was cancelled with its purchase).
    for (const event of locked.filter((e) => e.cancelledAt !== null && e.cancellationFinishedAt === null)) {
      const { cancelled, finished } = await cancelEventBatch(tx, event, EVENT_CANCELLATION_BATCH, decidedAt);
      changes.push(...cancelled);
      if (!finished) unfinished.add(event.id);
    }
    // A paused event only has its holds run out: the resume promotes. Its purchases keep their place
    // (the event is not left unfinished for them: the scan of Postgres skips it until the resume).
    for (const event of locked.filter((e) => e.cancelledAt === null && e.pausedAt !== null)) {
      const upToSeq = byEvent.get(event.id)?.upToSeq ?? 0;
      const expiries = await findPendingExpiries(tx, event.id, upToSeq, ENDINGS_PER_ROUND);
      for (const seq of expiries) {
        const { ended } = await applyExpiry(tx, event.id, seq, decidedAt, freedTickets(event));
        changes.push(...ended);
      }
      if (expiries.length === ENDINGS_PER_ROUND) unfinished.add(event.id);
    }

    let events = locked.filter((e) => e.cancelledAt === null && e.pausedAt === null && hasStarted(e));
    // An event's draw comes first in its queue order: at its first round after the start.
    const draws = await makeDraws(
      tx,
      events.filter((event) => event.salesStartAt !== null && event.drawnAt === null).map((e) => e.id),
    );
    const drawing = new Set(
      events.filter((event) => event.salesStartAt !== null && event.drawFinishedAt === null).map((e) => e.id),
    );
    const running = targets.filter((target) => events.some((event) => event.id === target.eventId));
    // Read under the locks: nothing another worker committed before them is missed.
    let snapshots = await loadSaleSnapshots(tx, running);
    // Free tickets and a waiting list: tickets came back while the sale was paused (or a resize the
    // pause held back). The line gets them before any purchase is decided.
    const starved = events.filter((event) => {
      const waiting = snapshots.get(event.id)?.waitlistLength ?? 0;
      const free = event.totalTickets - event.soldTickets - event.heldTickets;
      return !drawing.has(event.id) && freedTickets(event) === 'promote' && free > 0 && waiting > 0;
    });
    // The head may still not fit (two free, three wanted): the common state of a sold-out event with
    // a waiting list. Only an event whose line moved is read again.
    const moved: string[] = [];
    for (const event of starved) {
      const promoted = await promoteWaitlist(tx, event.id, decidedAt);
      changes.push(...promoted);
      countPromotions(promoted);
      if (promoted.length > 0) moved.push(event.id);
    }
    if (moved.length > 0) {
      const fresh = new Map((await lockEvents(tx, moved)).map((e) => [e.id, e]));
      events = events.map((event) => fresh.get(event.id) ?? event);
      snapshots = await loadSaleSnapshots(tx, running);
    }

    const sales: SaleToDecide[] = [];
    const endings: { event: LockedEvent; ending: Ending }[] = [];
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
    changes.push(...decided.changes);
    for (const eventId of decided.unfinished.keys()) unfinished.add(eventId);
    for (const sale of sales) {
      if (sale.draw === undefined)
        progress.set(sale.event.id, decided.unfinished.get(sale.event.id) ?? sale.upToSeq);
    }
    for (const { event, ending } of endings) {
      const eventId = event.id;
      if (unfinished.has(eventId)) continue;
      const upToSeq = byEvent.get(eventId)?.upToSeq ?? ending.seq;
      let freed = freedTickets(event);
      // Endings one after another in the queue (a burst of cancellations) are carried out together,
      // a few dozen to a round: one transaction for many, still in queue order.
      let next: Ending | undefined = ending;
      for (let carried = 1; next !== undefined; carried += 1) {
        const done = await carryOut(tx, eventId, next, decidedAt, freed);
        // Tickets freed after the close are not sold again.
        if (next.kind === 'close') freed = 'keep';
        changes.push(...done.ended, ...done.promoted);
        eventChanges.push(...(done.eventChanges ?? []));
        countPromotions(done.promoted);
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
    if (eventChanges.length > 0) await outbox.recordEventChanges?.(tx, eventChanges, decidedAt);
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

/** Carries out one ending of an event, its turn in the queue come. */
function carryOut(
  tx: Tx,
  eventId: string,
  ending: Ending,
  decidedAt: Date,
  freed: FreedTickets,
): Promise<Ended> {
  switch (ending.kind) {
    case 'cancel':
      return applyCancellation(tx, eventId, ending.purchaseId, decidedAt, freed);
    case 'expire':
      return applyExpiry(tx, eventId, ending.seq, decidedAt, freed);
    case 'resize':
      return applyResize(tx, eventId, ending, decidedAt, freed);
    case 'close':
      return applyClose(tx, eventId, decidedAt);
  }
}

/** The newest sequence number handed out: everything accepted so far is at or below it. */
export async function latestSeq(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ lastValue: number }>`select last_value from purchases_seq_seq`.execute(db);
  return rows[0]?.lastValue ?? 0;
}
