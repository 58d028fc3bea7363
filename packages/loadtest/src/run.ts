import { randomUUID } from 'node:crypto';
import { auditBooks, type EventBooks } from './audit.js';
import { auditOnSale, type ArrivalGroup, type OnSaleFigures } from './onsale-audit.js';
import { mapLimit } from './map-limit.js';
import { TicketingClient, errorKind, type PurchaseState } from './client.js';
import { Latencies, type LatencySummary } from './stats.js';
import type { LoadOptions } from './options.js';

export interface LoadResult {
  readonly options: Omit<LoadOptions, 'adminToken'>;
  readonly durationSeconds: number;
  /** Purchases decided per second (submit → decided); with `acceptOnly`, accepted per second. */
  readonly purchasesPerSecond: number;
  readonly accepted: number;
  readonly confirmed: number;
  readonly waitlisted: number;
  readonly rejected: number;
  readonly cancelled: number;
  /** Holds: those still held at the end (none once settled), expired, and paid for (confirmed). */
  readonly held: number;
  readonly expired: number;
  readonly holdsConfirmed: number;
  /** Confirmations refused (409): the hold had run out or was being cancelled. */
  readonly confirmsRefused: number;
  /** After the load, how long the holds took to end (0 without holds). */
  readonly settleSeconds: number;
  readonly errors: number;
  readonly errorSamples: string[];
  readonly latencyMs: LatencySummary;
  readonly submitLatencyMs: LatencySummary;
  readonly audit: { readonly ok: boolean; readonly violations: string[] };
  /** Errors by what they were: `HTTP 503 unavailable`, `ECONNRESET`, … */
  readonly errorsByKind: Record<string, number>;
  /** The run second by second, from the first purchase to the last decision. */
  readonly timeline: LoadSecond[];
  /** On-sale mode: per event, the pre-queue, the time to the first decision, and the fairness figures. */
  readonly onSale?: readonly OnSaleFigures[];
}

/** What happened in one second of the run (the last one may be shorter). */
export interface LoadSecond {
  /** Seconds since the first purchase, at the end of this interval. */
  readonly at: number;
  /** Purchases the api accepted (202) in this interval. */
  readonly accepted: number;
  /** Purchases whose decision arrived in this interval, by that decision; and cancellations done. */
  readonly outcomes: Readonly<Record<Outcome, number>>;
  readonly errors: number;
  /** Submit → decided, of the purchases decided in this interval. */
  readonly latencyMs: IntervalLatency;
  /** Submit → 202, of the purchases accepted in this interval. */
  readonly submitLatencyMs: IntervalLatency;
}

export type IntervalLatency = LatencySummary & { readonly count: number };

const OUTCOMES = ['confirmed', 'held', 'waitlisted', 'rejected', 'cancelled'] as const;
type Outcome = (typeof OUTCOMES)[number];
const noOutcomes = (): Record<Outcome, number> => ({
  confirmed: 0,
  held: 0,
  waitlisted: 0,
  rejected: 0,
  cancelled: 0,
});
const isOutcome = (status: string): status is Outcome => (OUTCOMES as readonly string[]).includes(status);

interface Tracked {
  readonly purchaseId: string;
  readonly eventId: string;
  readonly quantity: number;
  /** On-sale mode: pre-queued (and how the buyer came) or arrived after the start. */
  readonly arrival?: ArrivalGroup | 'late';
}

/** Pre-queued purchases wait for the start; queued ones for their turn. */
const isDecided = (state: PurchaseState): boolean =>
  state.status !== 'queued' && state.status !== 'prequeued';

/** How long after the start the client follows pre-queued purchases before leaving them to the audit. */
const PREQUEUE_PATIENCE_MS = 120_000;

/** Waiting purchases of each event whose state is read each tick while holds settle: the line's head. */
const HEAD_POLLED = 50;
const SETTLE_TICK_MS = 250;

/**
 * One load run: create the events, submit every purchase and follow it to its decision (closed loop
 * with `concurrency` buyers, or open loop at `rate` per second), pay for a share of the holds (events
 * with `holdSeconds`), cancel a share of the confirmed ones, then, with holds, wait for every hold to
 * end (paying for a share of the holds promoted from the waiting list meanwhile), read every purchase
 * back and audit the books.
 */
export async function runLoad(
  options: LoadOptions,
  onProgress: (line: string) => void = () => undefined,
  onLoadFinished: () => void | Promise<void> = () => undefined,
): Promise<LoadResult> {
  const client = new TicketingClient(options.url, Math.max(options.concurrency, 16) + 16, options.adminToken);
  const runTag = randomUUID().slice(0, 8);
  try {
    const onSale = options.saleStartIn > 0;
    // The client only names the start; the server's clock says when it has come.
    const startAt = Date.now() + options.saleStartIn * 1000;
    const salesStartAt = new Date(startAt).toISOString();
    const events: { id: string }[] = [];
    for (let index = 0; index < options.events; index += 1) {
      events.push(
        await client.createEvent({
          name: `load ${runTag} #${index + 1}`,
          totalTickets: options.tickets,
          priceCents: options.priceCents,
          holdSeconds: options.holdSeconds,
          ...(onSale ? { salesStartAt } : {}),
        }),
      );
    }
    // The commitments as published before the start: the audit holds the revealed seed to them.
    const commitments = new Map<string, string>();
    if (onSale)
      for (const event of events) commitments.set(event.id, (await client.draw(event.id)).commitment);
    const early = Math.round(options.purchases * options.earlyRatio);
    const fast = Math.ceil(early / 2);
    /** Pre-queued purchases, followed to their decision once the sale has started. */
    const prequeued: { state: PurchaseState; begin: number }[] = [];

    if (options.warmConnections) await client.openConnections();

    const submitLatency = new Latencies();
    const finalLatency = new Latencies();
    const tracked: Tracked[] = [];
    const errorSamples: string[] = [];
    const errorsByKind: Record<string, number> = {};
    let errors = 0;
    let submitted = 0;
    let decided = 0;
    // Counts since the last point of the timeline.
    let interval = { accepted: 0, errors: 0, outcomes: noOutcomes() };
    const timeline: LoadSecond[] = [];
    let holdsConfirmed = 0;
    let confirmsRefused = 0;
    const wasHeld = new Set<string>();
    /** Waiting purchases of events with holds, by id: a promotion makes them held, to pay for or not. */
    const waiting = new Map<string, { eventId: string; position: number }>();
    const started = performance.now();

    const noteError = (error: unknown): void => {
      errors += 1;
      interval.errors += 1;
      const kind = errorKind(error);
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
      if (errorSamples.length < 10) errorSamples.push(error instanceof Error ? error.message : String(error));
    };

    /** A held purchase: the buyer pays for it (a share of them do), or lets it run out. */
    const payOrNot = async (state: PurchaseState): Promise<PurchaseState> => {
      if (state.status !== 'held') return state;
      wasHeld.add(state.purchaseId);
      if (Math.random() >= options.payRatio) return state;
      const outcome = await client.confirm(state.purchaseId, `pay-${runTag}-${state.purchaseId}`);
      if ('refused' in outcome) {
        confirmsRefused += 1;
        return state;
      }
      holdsConfirmed += 1;
      return outcome.confirmed;
    };

    /** After the purchase's 202: follow it to its decision, pay or not, cancel or not. */
    const finish = async (accepted: PurchaseState, begin: number, until?: number): Promise<void> => {
      const decision = isDecided(accepted)
        ? accepted
        : await client.follow(accepted.purchaseId, isDecided, until);
      // Given up on: left for the audit, which reports what is still undecided.
      if (!isDecided(decision)) return;
      finalLatency.add(performance.now() - begin);
      decided += 1;
      if (isOutcome(decision.status)) interval.outcomes[decision.status] += 1;
      if (decision.status === 'waitlisted' && options.holdSeconds > 0)
        waiting.set(decision.purchaseId, {
          eventId: accepted.eventId,
          position: decision.waitlistPosition ?? 0,
        });
      const outcome = await payOrNot(decision);
      if (outcome.status === 'confirmed' && Math.random() < options.cancelRatio) {
        await client.cancel(outcome.purchaseId);
        await client.follow(outcome.purchaseId, (state) => state.status === 'cancelled');
        interval.outcomes.cancelled += 1;
      }
    };

    const buy = async (index: number): Promise<void> => {
      const event = events[index % events.length];
      if (event === undefined) return;
      const { min, max } = options.quantity;
      const quantity = min + Math.floor(Math.random() * (max - min + 1));
      const userId = `u-${runTag}-${index}`;
      const begin = performance.now();
      try {
        const accepted = await client.submitPurchase(
          event.id,
          { userId, quantity },
          `${runTag}-${index}`,
          options.preferWait,
        );
        submitLatency.add(performance.now() - begin);
        submitted += 1;
        interval.accepted += 1;
        const arrival: Tracked['arrival'] = !onSale
          ? undefined
          : accepted.status !== 'prequeued'
            ? 'late'
            : index < fast
              ? 'fast'
              : 'paced';
        tracked.push({
          purchaseId: accepted.purchaseId,
          eventId: event.id,
          quantity,
          ...(arrival !== undefined ? { arrival } : {}),
        });
        if (options.acceptOnly) return;
        // Holding a long-poll per pre-queued purchase would take every connection until the start.
        if (accepted.status === 'prequeued') prequeued.push({ state: accepted, begin });
        else await finish(accepted, begin);
      } catch (error) {
        noteError(error);
      }
    };

    /**
     * Until no ticket of any event is held: holds run out and the line moves up, so the head of each
     * event's line is read every tick, and a purchase found held is paid for or not. Ends early if
     * nothing moved for a long while (the audit then reports the holds that never ended).
     */
    const settleHolds = async (): Promise<void> => {
      const patienceMs = Math.max(60_000, 10_000 * options.holdSeconds);
      let lastChange = performance.now();
      let lastFigures = '';
      for (;;) {
        const statuses = await Promise.all(events.map((event) => client.status(event.id)));
        if (statuses.every((status) => status.heldTickets === 0)) return;
        const figures = JSON.stringify(statuses);
        if (figures !== lastFigures) {
          lastFigures = figures;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > patienceMs) return;
        const heads = events.flatMap((event) =>
          [...waiting]
            .filter(([, entry]) => entry.eventId === event.id)
            .sort(([, a], [, b]) => a.position - b.position)
            .slice(0, HEAD_POLLED)
            .map(([purchaseId]) => purchaseId),
        );
        await mapLimit(heads, 16, async (purchaseId) => {
          try {
            const state = await client.getPurchase(purchaseId);
            if (state.status === 'waitlisted') {
              waiting.set(purchaseId, { eventId: state.eventId, position: state.waitlistPosition ?? 0 });
              return;
            }
            waiting.delete(purchaseId);
            await payOrNot(state);
          } catch (error) {
            noteError(error);
          }
        });
        await new Promise((resolve) => setTimeout(resolve, SETTLE_TICK_MS));
      }
    };

    const addSecond = (): LoadSecond => {
      const second: LoadSecond = {
        at: Math.round((performance.now() - started) / 100) / 10,
        ...interval,
        latencyMs: finalLatency.takeInterval(),
        submitLatencyMs: submitLatency.takeInterval(),
      };
      interval = { accepted: 0, errors: 0, outcomes: noOutcomes() };
      timeline.push(second);
      return second;
    };
    // Each tick closes one point of the timeline; the run's last point closes at the tick after the
    // load, so that every point spans a whole second (a sliver at the end would chart as a spike).
    let lastTick: (() => void) | undefined;
    const progress = setInterval(() => {
      const second = addSecond();
      onProgress(
        `${second.at.toFixed(1)}s submitted ${submitted} decided ${decided}/${options.purchases} ` +
          `${Math.round(decided / second.at)}/s p99 ${second.latencyMs.p99}ms errors ${errors}`,
      );
      lastTick?.();
    }, 1000);
    const stopTimeline = async (): Promise<void> => {
      await new Promise<void>((resolve) => {
        lastTick = resolve;
      });
      clearInterval(progress);
    };

    const all = { from: 0, to: options.purchases };
    // A pre-queue that is never decided (a broken draw) must not hang the run: its audit says so.
    const followPrequeued = (until: number) =>
      mapLimit(prequeued, options.concurrency, async ({ state, begin }) => {
        try {
          await finish(state, begin, until);
        } catch (error) {
          noteError(error);
        }
      });
    try {
      if (onSale) {
        // Before the start: the fast half as fast as the closed loop goes, the paced half spread over
        // the first 80% of the pre-queue; after it, the rest, while the pre-queue is followed.
        const pacedRate = Math.max(early - fast, 1) / (options.saleStartIn * 0.8);
        await Promise.all([
          closedLoop(options, buy, { from: 0, to: fast }),
          openLoop({ ...options, rate: pacedRate }, buy, { from: fast, to: early }),
        ]);
        const untilStart = startAt - Date.now();
        if (untilStart > 0) await new Promise((resolve) => setTimeout(resolve, untilStart + 50));
        const later = { from: early, to: options.purchases };
        await Promise.all([
          followPrequeued(performance.now() + (options.prequeuePatienceMs ?? PREQUEUE_PATIENCE_MS)),
          options.rate > 0 ? openLoop(options, buy, later) : closedLoop(options, buy, later),
        ]);
      } else if (options.rate > 0) await openLoop(options, buy, all);
      else await closedLoop(options, buy, all);
    } catch (error) {
      clearInterval(progress);
      throw error;
    }
    const durationSeconds = (performance.now() - started) / 1000;
    const settleStarted = performance.now();
    if (options.holdSeconds > 0 && !options.acceptOnly) await settleHolds();
    const settleSeconds = (performance.now() - settleStarted) / 1000;
    await onLoadFinished();
    await stopTimeline();

    // Read everything back: promotions after cancellations change states after their first decision.
    const finalStates = options.audit
      ? await mapLimit(tracked, 64, (purchase) => client.getPurchase(purchase.purchaseId))
      : [];
    const books: EventBooks[] = [];
    for (const event of options.audit ? events : []) {
      const [status, report] = await Promise.all([client.status(event.id), client.report(event.id)]);
      books.push({
        eventId: event.id,
        totalTickets: status.totalTickets,
        soldTickets: status.soldTickets,
        heldTickets: status.heldTickets,
        priceCents: options.priceCents,
        report,
        purchases: finalStates
          .filter((state) => state.eventId === event.id)
          .map((state) => ({
            purchaseId: state.purchaseId,
            status: state.status,
            quantity: state.quantity,
            wasHeld: wasHeld.has(state.purchaseId),
            ...(state.waitlistPosition !== undefined ? { waitlistPosition: state.waitlistPosition } : {}),
          })),
      });
    }
    const violations = auditBooks(books);
    const onSaleFigures: OnSaleFigures[] = [];
    for (const book of onSale ? books : []) {
      const arrival = new Map(tracked.map((purchase) => [purchase.purchaseId, purchase.arrival ?? 'late']));
      const processedAt = new Map(finalStates.map((state) => [state.purchaseId, state.processedAt]));
      const audited = auditOnSale({
        eventId: book.eventId,
        totalTickets: book.totalTickets,
        salesStartAt,
        draw: { ...(await client.draw(book.eventId)), commitmentBefore: commitments.get(book.eventId) ?? '' },
        purchases: book.purchases.map((purchase) => {
          const at = processedAt.get(purchase.purchaseId);
          return {
            ...purchase,
            arrival: arrival.get(purchase.purchaseId) ?? 'late',
            ...(at !== undefined ? { processedAt: at } : {}),
          };
        }),
      });
      violations.push(...audited.violations);
      onSaleFigures.push(audited.figures);
    }
    if (submitted < options.purchases)
      violations.push(`${options.purchases - submitted} purchases were never accepted`);
    const count = (status: string): number => finalStates.filter((state) => state.status === status).length;
    const { adminToken: _adminToken, ...publicOptions } = options;
    return {
      options: publicOptions,
      durationSeconds: Math.round(durationSeconds * 100) / 100,
      purchasesPerSecond: Math.round((options.acceptOnly ? submitted : decided) / durationSeconds),
      accepted: submitted,
      confirmed: count('confirmed'),
      waitlisted: count('waitlisted'),
      rejected: count('rejected'),
      cancelled: count('cancelled'),
      held: count('held'),
      expired: count('expired'),
      holdsConfirmed,
      confirmsRefused,
      settleSeconds: Math.round(settleSeconds * 100) / 100,
      errors,
      errorSamples,
      latencyMs: finalLatency.summary(),
      submitLatencyMs: submitLatency.summary(),
      audit: { ok: violations.length === 0, violations },
      errorsByKind,
      timeline,
      ...(onSale ? { onSale: onSaleFigures } : {}),
    };
  } finally {
    await client.close();
  }
}

/** The purchases numbered `from` up to `to` (exclusive). */
interface Range {
  readonly from: number;
  readonly to: number;
}

async function closedLoop(
  options: LoadOptions,
  buy: (index: number) => Promise<void>,
  { from, to }: Range,
): Promise<void> {
  let next = from;
  const buyer = async (): Promise<void> => {
    while (next < to) await buy(next++);
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(options.concurrency, to - from)) }, buyer));
}

async function openLoop(
  options: LoadOptions,
  buy: (index: number) => Promise<void>,
  { from, to }: Range,
): Promise<void> {
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let index = from; index < to; index += 1) {
    const due = started + ((index - from) * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(buy(index));
  }
  await Promise.all(inFlight);
}
