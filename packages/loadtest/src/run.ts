import { randomUUID } from 'node:crypto';
import { auditBooks, type EventBooks } from './audit.js';
import { auditOnSale, type ArrivalGroup, type OnSaleFigures } from './onsale-audit.js';
import { mapLimit } from './map-limit.js';
import { HttpError, TicketingClient, errorKind, type PurchaseState } from './client.js';
import { auditSaleOperations, type OperatedEvent, type SaleOperationSeen } from './sale-operations-audit.js';
import { SaleOperator } from './sale-operator.js';
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
  /** Sale operations (`--resize-at` and the like): what was done, and the purchases refused after the end. */
  readonly saleOperations?: {
    readonly done: readonly SaleOperationSeen[];
    readonly refusedAfterEnd: number;
  };
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
  /** When its submit began and when its 202 came (`performance.now()`), to place it against operations. */
  readonly submittedAt: number;
  readonly acceptedAt: number;
}

/** Pre-queued purchases wait for the start; queued ones for their turn. */
const isDecided = (state: PurchaseState): boolean =>
  state.status !== 'queued' && state.status !== 'prequeued';

/** How long after the start the client follows pre-queued purchases before leaving them to the audit. */
const PREQUEUE_PATIENCE_MS = 120_000;

/**
 * On-sale mode (`saleStartIn`): the events' start, the commitments read before it, and which buyers
 * come before it (the first `early`, of whom the first `fast` as fast as they can, the rest paced).
 */
interface OnSale {
  readonly startAt: number;
  readonly salesStartAt: string;
  readonly early: number;
  readonly fast: number;
}

/** Waiting purchases of each event whose state is read each tick while holds settle: the line's head. */
const HEAD_POLLED = 50;
const SETTLE_TICK_MS = 250;

/**
 * One load run, in phases: create the events; submit every purchase and follow it to its decision
 * (closed loop with `concurrency` buyers, or open loop at `rate` per second), paying for a share of
 * the holds (events with `holdSeconds`) and cancelling a share of the confirmed ones; with holds,
 * wait for every hold to end (paying for a share of the holds promoted from the waiting list
 * meanwhile); read every purchase back and audit the books.
 */
export async function runLoad(
  options: LoadOptions,
  onProgress: (line: string) => void = () => undefined,
  onLoadFinished: () => void | Promise<void> = () => undefined,
): Promise<LoadResult> {
  const client = new TicketingClient(options.url, Math.max(options.concurrency, 16) + 16, options.adminToken);
  const runTag = randomUUID().slice(0, 8);
  // The operator's connections of its own: the buyers' may all be long-polls while a sale is paused.
  const operatorClient =
    options.saleOperations.length === 0 ? undefined : new TicketingClient(options.url, 4, options.adminToken);
  try {
    const onSale = onSalePlan(options);
    const events = await createEvents(client, options, runTag, onSale?.salesStartAt);
    // The commitments as published before the start: the audit holds the revealed seed to them.
    const commitments = new Map<string, string>();
    for (const event of onSale === undefined ? [] : events)
      commitments.set(event.id, (await client.draw(event.id)).commitment);
    if (options.warmConnections) await client.openConnections();

    const tally = new Tally();
    const operator =
      operatorClient === undefined
        ? undefined
        : new SaleOperator(
            operatorClient,
            options.saleOperations,
            events.map((event) => ({ id: event.id, totalTickets: options.tickets })),
            options.purchases,
            {
              handled: () => tally.submitted + tally.refusedAfterEnd,
              acceptedSince: (eventId, since) =>
                tally.tracked
                  .filter((purchase) => purchase.eventId === eventId && purchase.acceptedAt > since)
                  .map((purchase) => purchase.purchaseId),
            },
          );
    const buyers = new Buyers(client, options, runTag, events, tally, onSale, operator);
    const started = performance.now();
    const timeline = new Timeline(tally, started, (second) =>
      onProgress(
        `${second.at.toFixed(1)}s submitted ${tally.submitted} decided ${tally.decided}/${options.purchases} ` +
          `${Math.round(tally.decided / second.at)}/s p99 ${second.latencyMs.p99}ms errors ${tally.errors}`,
      ),
    );
    const buy = (index: number) => buyers.buy(index);
    const operating = operator?.run();
    try {
      if (onSale !== undefined) await onSaleLoop(options, onSale, buyers);
      else if (options.rate > 0) await openLoop(options, buy, { from: 0, to: options.purchases });
      else await closedLoop(options, buy, { from: 0, to: options.purchases });
      operator?.loadFinished();
      await operating;
    } catch (error) {
      timeline.abort();
      throw error;
    }
    const durationSeconds = (performance.now() - started) / 1000;
    const settleStarted = performance.now();
    if (options.holdSeconds > 0 && !options.acceptOnly) await buyers.settleHolds();
    const settleSeconds = (performance.now() - settleStarted) / 1000;
    await onLoadFinished();
    await timeline.stop();

    const finalStates = options.audit ? await readBack(client, tally.tracked) : [];
    const books = options.audit ? await readBooks(client, options, events, finalStates, tally.wasHeld) : [];
    const violations = auditBooks(books);
    if (tally.submitted + tally.refusedAfterEnd < options.purchases)
      violations.push(
        `${options.purchases - tally.submitted - tally.refusedAfterEnd} purchases were never accepted`,
      );
    if (operator !== undefined)
      violations.push(
        ...auditSaleOperations(operator.seen, await readOperatedEvents(client, options, books, tally)),
      );
    const onSaleFigures: OnSaleFigures[] = [];
    for (const book of onSale === undefined ? [] : books) {
      const audited = await auditOnSaleEvent(client, book, tally.tracked, finalStates, onSale!, commitments);
      violations.push(...audited.violations);
      onSaleFigures.push(audited.figures);
    }
    return {
      ...summarize(options, tally, finalStates, violations, timeline.points, {
        durationSeconds,
        settleSeconds,
      }),
      ...(onSale !== undefined ? { onSale: onSaleFigures } : {}),
      ...(operator !== undefined
        ? { saleOperations: { done: operator.seen, refusedAfterEnd: tally.refusedAfterEnd } }
        : {}),
    };
  } finally {
    await client.close();
    await operatorClient?.close();
  }
}

function onSalePlan(options: LoadOptions): OnSale | undefined {
  if (options.saleStartIn <= 0) return undefined;
  // The client only names the start; the server's clock says when it has come.
  const startAt = Date.now() + options.saleStartIn * 1000;
  const early = Math.round(options.purchases * options.earlyRatio);
  return { startAt, salesStartAt: new Date(startAt).toISOString(), early, fast: Math.ceil(early / 2) };
}

async function createEvents(
  client: TicketingClient,
  options: LoadOptions,
  runTag: string,
  salesStartAt: string | undefined,
): Promise<{ id: string }[]> {
  const events: { id: string }[] = [];
  for (let index = 0; index < options.events; index += 1) {
    events.push(
      await client.createEvent({
        name: `load ${runTag} #${index + 1}`,
        totalTickets: options.tickets,
        priceCents: options.priceCents,
        holdSeconds: options.holdSeconds,
        ...(salesStartAt !== undefined ? { salesStartAt } : {}),
      }),
    );
  }
  return events;
}

/** What the run counted: for the result as a whole, and since the timeline's last point. */
class Tally {
  readonly submitLatency = new Latencies();
  readonly finalLatency = new Latencies();
  readonly tracked: Tracked[] = [];
  readonly errorSamples: string[] = [];
  readonly errorsByKind: Record<string, number> = {};
  /** Purchases seen held: the audit knows they may have run out. */
  readonly wasHeld = new Set<string>();
  /** Purchases the buyers cancelled (`cancelRatio`). */
  readonly cancelledByBuyers = new Set<string>();
  /** Purchases refused (409) because the sale had been closed or cancelled: no error, the sale's end. */
  refusedAfterEnd = 0;
  errors = 0;
  submitted = 0;
  decided = 0;
  holdsConfirmed = 0;
  confirmsRefused = 0;
  /** Counts since the last point of the timeline. */
  interval = { accepted: 0, errors: 0, outcomes: noOutcomes() };

  noteError(error: unknown): void {
    this.errors += 1;
    this.interval.errors += 1;
    const kind = errorKind(error);
    this.errorsByKind[kind] = (this.errorsByKind[kind] ?? 0) + 1;
    if (this.errorSamples.length < 10)
      this.errorSamples.push(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The run second by second. Each tick closes one point; the run's last point closes at the tick
 * after the load, so that every point spans a whole second (a sliver at the end would chart as a
 * spike).
 */
class Timeline {
  readonly points: LoadSecond[] = [];
  private readonly timer: NodeJS.Timeout;
  private lastTick: (() => void) | undefined;

  constructor(
    private readonly tally: Tally,
    private readonly started: number,
    onSecond: (second: LoadSecond) => void,
  ) {
    this.timer = setInterval(() => {
      onSecond(this.addSecond());
      this.lastTick?.();
    }, 1000);
  }

  private addSecond(): LoadSecond {
    const second: LoadSecond = {
      at: Math.round((performance.now() - this.started) / 100) / 10,
      ...this.tally.interval,
      latencyMs: this.tally.finalLatency.takeInterval(),
      submitLatencyMs: this.tally.submitLatency.takeInterval(),
    };
    this.tally.interval = { accepted: 0, errors: 0, outcomes: noOutcomes() };
    this.points.push(second);
    return second;
  }

  /** Closes the last point at the next tick, then stops. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.lastTick = resolve;
    });
    clearInterval(this.timer);
  }

  /** Stops at once: the run failed. */
  abort(): void {
    clearInterval(this.timer);
  }
}

/** The buyers: each buys, follows the purchase to its decision, pays for a hold or not, cancels or not. */
class Buyers {
  /** Waiting purchases of events with holds, by id: a promotion makes them held, to pay for or not. */
  private readonly waiting = new Map<string, { eventId: string; position: number }>();
  /** Pre-queued purchases, followed to their decision once the sale has started. */
  private readonly prequeued: { state: PurchaseState; begin: number }[] = [];

  constructor(
    private readonly client: TicketingClient,
    private readonly options: LoadOptions,
    private readonly runTag: string,
    private readonly events: readonly { id: string }[],
    private readonly tally: Tally,
    private readonly onSale?: OnSale,
    private readonly operator?: SaleOperator,
  ) {}

  async buy(index: number): Promise<void> {
    const { client, options, tally } = this;
    const event = this.events[index % this.events.length];
    if (event === undefined) return;
    const { min, max } = options.quantity;
    const quantity = min + Math.floor(Math.random() * (max - min + 1));
    const userId = `u-${this.runTag}-${index}`;
    const begin = performance.now();
    let submitted = false;
    try {
      const accepted = await client.submitPurchase(
        event.id,
        { userId, quantity },
        `${this.runTag}-${index}`,
        options.preferWait,
      );
      submitted = true;
      const acceptedAt = performance.now();
      tally.submitLatency.add(acceptedAt - begin);
      tally.submitted += 1;
      tally.interval.accepted += 1;
      const arrival = this.arrival(index, accepted);
      tally.tracked.push({
        purchaseId: accepted.purchaseId,
        eventId: event.id,
        quantity,
        ...(arrival !== undefined ? { arrival } : {}),
        submittedAt: begin,
        acceptedAt,
      });
      if (options.acceptOnly) return;
      // Holding a long-poll per pre-queued purchase would take every connection until the start.
      if (accepted.status === 'prequeued') this.prequeued.push({ state: accepted, begin });
      else await this.finish(accepted, begin);
    } catch (error) {
      if (!submitted && this.endedSale(error)) tally.refusedAfterEnd += 1;
      else tally.noteError(error);
    }
  }

  /** A purchase refused because the run's operator closed or cancelled the sale: the sale's end. */
  private endedSale(error: unknown): boolean {
    if (this.operator?.endSent !== true || !(error instanceof HttpError) || error.status !== 409)
      return false;
    const kind = errorKind(error);
    return kind.endsWith(' sale_ended') || kind.endsWith(' event_cancelled');
  }

  /** On-sale mode: pre-queued as a fast or a paced buyer, or arrived after the start. */
  private arrival(index: number, accepted: PurchaseState): Tracked['arrival'] {
    if (this.onSale === undefined) return undefined;
    if (accepted.status !== 'prequeued') return 'late';
    return index < this.onSale.fast ? 'fast' : 'paced';
  }

  /** After the purchase's 202: follow it to its decision (until `until`), pay or not, cancel or not. */
  private async finish(accepted: PurchaseState, begin: number, until?: number): Promise<void> {
    const { client, options, tally } = this;
    const decision = isDecided(accepted)
      ? accepted
      : await client.follow(accepted.purchaseId, isDecided, until);
    // Given up on: left for the audit, which reports what is still undecided.
    if (!isDecided(decision)) return;
    tally.finalLatency.add(performance.now() - begin);
    tally.decided += 1;
    if (isOutcome(decision.status)) tally.interval.outcomes[decision.status] += 1;
    if (decision.status === 'waitlisted' && options.holdSeconds > 0)
      this.waiting.set(decision.purchaseId, {
        eventId: accepted.eventId,
        position: decision.waitlistPosition ?? 0,
      });
    const outcome = await this.payOrNot(decision);
    if (outcome.status === 'confirmed' && Math.random() < options.cancelRatio) {
      tally.cancelledByBuyers.add(outcome.purchaseId);
      await client.cancel(outcome.purchaseId);
      await client.follow(outcome.purchaseId, (state) => state.status === 'cancelled');
      tally.interval.outcomes.cancelled += 1;
    }
  }

  /**
   * Once the sale has started: follows every pre-queued purchase to its decision, for a bounded time,
   * so that a draw that never decides some of them ends in the audit's report, not a hung run.
   */
  async followPrequeued(): Promise<void> {
    const until = performance.now() + (this.options.prequeuePatienceMs ?? PREQUEUE_PATIENCE_MS);
    await mapLimit(this.prequeued, this.options.concurrency, async ({ state, begin }) => {
      try {
        await this.finish(state, begin, until);
      } catch (error) {
        this.tally.noteError(error);
      }
    });
  }

  /** A held purchase: the buyer pays for it (a share of them do), or lets it run out. */
  private async payOrNot(state: PurchaseState): Promise<PurchaseState> {
    if (state.status !== 'held') return state;
    this.tally.wasHeld.add(state.purchaseId);
    if (Math.random() >= this.options.payRatio) return state;
    const outcome = await this.client.confirm(state.purchaseId, `pay-${this.runTag}-${state.purchaseId}`);
    if ('refused' in outcome) {
      this.tally.confirmsRefused += 1;
      return state;
    }
    this.tally.holdsConfirmed += 1;
    return outcome.confirmed;
  }

  /**
   * Until no ticket of any event is held: holds run out and the line moves up, so the head of each
   * event's line is read every tick, and a purchase found held is paid for or not. Ends early if
   * nothing moved for a long while (the audit then reports the holds that never ended).
   */
  async settleHolds(): Promise<void> {
    const { client, events, waiting } = this;
    const patienceMs = Math.max(60_000, 10_000 * this.options.holdSeconds);
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
          await this.payOrNot(state);
        } catch (error) {
          this.tally.noteError(error);
        }
      });
      await new Promise((resolve) => setTimeout(resolve, SETTLE_TICK_MS));
    }
  }
}

/** Every purchase read back: promotions after cancellations change states after their first decision. */
function readBack(client: TicketingClient, tracked: readonly Tracked[]): Promise<PurchaseState[]> {
  return mapLimit([...tracked], 64, (purchase) => client.getPurchase(purchase.purchaseId));
}

/** Each event's books as the api reports them, with its purchases' final states, for the audit. */
async function readBooks(
  client: TicketingClient,
  options: LoadOptions,
  events: readonly { id: string }[],
  finalStates: readonly PurchaseState[],
  wasHeld: ReadonlySet<string>,
): Promise<EventBooks[]> {
  const books: EventBooks[] = [];
  for (const event of events) {
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
          ...(state.reason !== undefined ? { reason: state.reason } : {}),
          ...(state.waitlistPosition !== undefined ? { waitlistPosition: state.waitlistPosition } : {}),
        })),
    });
  }
  return books;
}

/**
 * The books the audit of the sale operations needs: each event's view (its sale's state, a resize not
 * carried out), the report's refund, and every purchase with when it was sent and accepted.
 */
async function readOperatedEvents(
  client: TicketingClient,
  options: LoadOptions,
  books: readonly EventBooks[],
  tally: Tally,
): Promise<OperatedEvent[]> {
  const timing = new Map(tally.tracked.map((purchase) => [purchase.purchaseId, purchase]));
  const events: OperatedEvent[] = [];
  for (const book of books) {
    const [view, report] = await Promise.all([client.event(book.eventId), client.report(book.eventId)]);
    events.push({
      eventId: book.eventId,
      priceCents: book.priceCents,
      totalTickets: book.totalTickets,
      soldTickets: book.soldTickets,
      heldTickets: book.heldTickets,
      saleState: view.saleState,
      pendingTotalTickets: view.pendingTotalTickets ?? null,
      ...(report.refundDueCents !== undefined ? { refundDueCents: report.refundDueCents } : {}),
      maxQuantity: options.quantity.max,
      purchases: book.purchases.map((purchase) => {
        const tracked = timing.get(purchase.purchaseId);
        return {
          purchaseId: purchase.purchaseId,
          quantity: purchase.quantity,
          status: purchase.status,
          ...(purchase.reason !== undefined ? { reason: purchase.reason } : {}),
          submittedAt: tracked?.submittedAt ?? 0,
          acceptedAt: tracked?.acceptedAt ?? 0,
          cancelledByBuyer: tally.cancelledByBuyers.has(purchase.purchaseId),
          gotTickets:
            ['confirmed', 'held', 'expired'].includes(purchase.status) ||
            purchase.wasHeld === true ||
            tally.cancelledByBuyers.has(purchase.purchaseId),
        };
      }),
    });
  }
  return events;
}

function summarize(
  options: LoadOptions,
  tally: Tally,
  finalStates: readonly PurchaseState[],
  violations: string[],
  timeline: LoadSecond[],
  times: { durationSeconds: number; settleSeconds: number },
): LoadResult {
  const count = (status: string): number => finalStates.filter((state) => state.status === status).length;
  const { adminToken: _adminToken, ...publicOptions } = options;
  return {
    options: publicOptions,
    durationSeconds: Math.round(times.durationSeconds * 100) / 100,
    purchasesPerSecond: Math.round(
      (options.acceptOnly ? tally.submitted : tally.decided) / times.durationSeconds,
    ),
    accepted: tally.submitted,
    confirmed: count('confirmed'),
    waitlisted: count('waitlisted'),
    rejected: count('rejected'),
    cancelled: count('cancelled'),
    held: count('held'),
    expired: count('expired'),
    holdsConfirmed: tally.holdsConfirmed,
    confirmsRefused: tally.confirmsRefused,
    settleSeconds: Math.round(times.settleSeconds * 100) / 100,
    errors: tally.errors,
    errorSamples: tally.errorSamples,
    latencyMs: tally.finalLatency.summary(),
    submitLatencyMs: tally.submitLatency.summary(),
    audit: { ok: violations.length === 0, violations },
    errorsByKind: tally.errorsByKind,
    timeline,
  };
}

/**
 * Each event's on-sale audited (onsale-audit.ts) from the run's purchases and the draw the api
 * reveals after the start, against the commitment read before it.
 */
async function auditOnSaleEvent(
  client: TicketingClient,
  book: EventBooks,
  tracked: readonly Tracked[],
  finalStates: readonly PurchaseState[],
  onSale: OnSale,
  commitments: ReadonlyMap<string, string>,
) {
  const arrival = new Map(tracked.map((purchase) => [purchase.purchaseId, purchase.arrival ?? 'late']));
  const processedAt = new Map(finalStates.map((state) => [state.purchaseId, state.processedAt]));
  return auditOnSale({
    eventId: book.eventId,
    totalTickets: book.totalTickets,
    salesStartAt: onSale.salesStartAt,
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
}

/**
 * An on-sale: before the start the fast buyers as fast as the closed loop goes and the paced ones
 * spread over the first 80% of the wait; after it the rest (closed loop, or `rate`), while the
 * pre-queued purchases are followed to their decisions.
 */
async function onSaleLoop(options: LoadOptions, onSale: OnSale, buyers: Buyers): Promise<void> {
  const buy = (index: number) => buyers.buy(index);
  const { early, fast, startAt } = onSale;
  const pacedRate = Math.max(early - fast, 1) / (options.saleStartIn * 0.8);
  await Promise.all([
    closedLoop(options, buy, { from: 0, to: fast }),
    openLoop({ ...options, rate: pacedRate }, buy, { from: fast, to: early }),
  ]);
  const untilStart = startAt - Date.now();
  if (untilStart > 0) await new Promise((resolve) => setTimeout(resolve, untilStart + 50));
  const later = { from: early, to: options.purchases };
  await Promise.all([
    buyers.followPrequeued(),
    options.rate > 0 ? openLoop(options, buy, later) : closedLoop(options, buy, later),
  ]);
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
