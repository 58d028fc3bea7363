import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cancellationEffect, checkCancellable } from '../src/domain/cancellation.js';
import { checkConfirmable, expiryEffect } from '../src/domain/hold.js';
import {
  compareDrawKeys,
  drawKey,
  drawOrder,
  onSaleOrder,
  type OrderedPurchase,
} from '../src/domain/draw.js';
import {
  ACTIVE_STATUSES,
  decidePurchases,
  type CancellationReason,
  type PendingPurchase,
  type PurchaseStatus,
} from '../src/domain/purchase.js';
import { admission, checkSaleWindow, saleWindowState } from '../src/domain/sale-window.js';
import {
  checkResize,
  checkSaleOperation,
  freedTickets,
  resizedTotal,
} from '../src/domain/sale-operations.js';
import { planPromotions } from '../src/domain/waitlist.js';

/**
 * A model-based test of the sale's rules. The system under test is the worker's way of running a sale
 * with the pure domain functions: requests (purchases, cancellations, expiries, resizes and the close)
 * take numbers in one queue, and each delivered job applies every pending request up to its own
 * number, purchases in batches through `decidePurchases`, cancellations through `cancellationEffect` +
 * `planPromotions`, expiries through `expiryEffect` + `planPromotions`, resizes (refused by
 * `checkResize` below what is taken when asked) through `resizedTotal` + `planPromotions`, the close
 * (after which purchases and resizes are refused) by rejecting the line, after which `freedTickets`
 * keeps returned tickets. On an event with holds, a purchase that gets tickets is held until the shop
 * confirms it (`checkConfirmable`, at any moment, outside the queue) or until the sweep finds it past
 * its time and queues its expiry. The operator's pause, resume and event cancellation are immediate,
 * not numbered, and allowed or not by `checkSaleOperation` (a close resumes a paused sale): while
 * paused, a job only carries out the expiries up to its number, whose tickets `freedTickets` keeps
 * for the resume; every job of an unpaused, unclosed sale first promotes a line whose head fits the
 * free tickets, as the round does; once the event is cancelled, each job is the next batch (of a
 * random size) of its cancellation, by queue order from a cursor, and nothing else. Jobs arrive late,
 * twice, or not at all (a final sweep stands for the reconciler); time passes in ticks.
 *
 * The reference model is the plainest statement of the rules: one request at a time, in number order,
 * nothing decided while paused nor after the event's cancellation, the line given the tickets freed
 * during a pause before anything decided after its resume, every active purchase cancelled at once by
 * the event's cancellation. What happened outside the queue order (confirmations, operations, the
 * expiries carried out during a pause, the promotions at a resume) is replayed where it happened, from
 * the sale's timeline; what each does, the reference works out itself.
 */

interface Purchase {
  readonly id: number;
  readonly userId: string;
  readonly quantity: number;
  readonly joinWaitlist: boolean;
  status: PurchaseStatus;
  /** Why it was cancelled, when it was not the buyer's doing. */
  reason: CancellationReason | undefined;
  cancelRequested: boolean;
  /** While held: the tick the hold runs out at. */
  holdExpiresAt: number | undefined;
  /** Its expiry has a place in the queue. */
  expiring: boolean;
  paymentReference: string | null;
}

type Request =
  | { readonly kind: 'purchase'; readonly id: number }
  | { readonly kind: 'cancel'; readonly id: number }
  | { readonly kind: 'expire'; readonly ids: readonly number[] }
  | { readonly kind: 'resize'; readonly total: number }
  | { readonly kind: 'close' };

type Operation = 'pause' | 'resume' | 'close' | 'cancel';

/** Where something happened outside the queue order: after `applied` requests, with `queued` accepted, at tick `at`. */
interface Moment {
  readonly applied: number;
  readonly queued: number;
  readonly at: number;
}

/** Something that happened outside the queue order, in the order things happened. */
type Happening = Moment &
  (
    | {
        readonly kind: 'confirm';
        readonly id: number;
        readonly paymentReference: string;
        readonly outcome: string;
      }
    /** An operator's operation and its verdict: `apply`, `repeat` or the refusal's code. */
    | { readonly kind: 'operation'; readonly operation: Operation; readonly verdict: string }
    /** The expiry numbered `index` carried out ahead of its turn, during a pause. */
    | { readonly kind: 'early_expiry'; readonly index: number }
    /** A job promoted the line before deciding anything (after a resume). */
    | { readonly kind: 'promotion' }
  );

interface Sale {
  readonly initialTotal: number;
  /** As resizes carried out left it. */
  total: number;
  /** The sale has ended: its close has its place in the queue (nothing is numbered after it). */
  ended: boolean;
  /** Its close was carried out: the line is closed, freed tickets are kept. */
  closed: boolean;
  paused: boolean;
  /** Resumed, and no job has run since: the line may be owed the tickets freed during the pause. */
  resumed: boolean;
  cancelled: boolean;
  /** The id of the last purchase the event's cancellation went through (ids follow queue order). */
  cancellationCursor: number;
  cancellationFinished: boolean;
  /** Tickets confirmed at the moment the event's cancellation cancelled them: what is refunded. */
  refundDue: number;
  readonly holdTicks: number;
  available: number;
  now: number;
  /** Purchase ids in line order. */
  waitlist: number[];
  readonly purchases: Purchase[];
  /** Requests in queue order; `applied` is how many of them have been carried out, `appliedAt` when. */
  readonly queue: Request[];
  applied: number;
  readonly appliedAt: number[];
  /** Requests past `applied` carried out ahead of their turn (expiries during a pause), by index. */
  readonly appliedEarly: Set<number>;
  readonly timeline: Happening[];
}

const newSale = (total: number, holdTicks: number): Sale => ({
  initialTotal: total,
  total,
  ended: false,
  closed: false,
  paused: false,
  resumed: false,
  cancelled: false,
  cancellationCursor: -1,
  cancellationFinished: false,
  refundDue: 0,
  holdTicks,
  available: total,
  now: 0,
  waitlist: [],
  purchases: [],
  queue: [],
  applied: 0,
  appliedAt: [],
  appliedEarly: new Set(),
  timeline: [],
});

type Command =
  | { readonly kind: 'buy'; readonly user: number; readonly quantity: number; readonly joinWaitlist: boolean }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'resize'; readonly total: number }
  | { readonly kind: 'operate'; readonly operation: Operation }
  /** `pick` undefined: the job of the newest request, as usually comes next. */
  | { readonly kind: 'deliver'; readonly pick: number | undefined; readonly batch: number }
  | { readonly kind: 'pay'; readonly pick: number; readonly reference: number }
  | { readonly kind: 'tick'; readonly ticks: number }
  | { readonly kind: 'sweep' };

const purchaseOf = (sale: Sale, id: number): Purchase => {
  const purchase = sale.purchases[id];
  if (purchase === undefined) throw new Error(`no purchase ${id}`);
  return purchase;
};

const pick = (sale: Sale, index: number): Purchase | undefined =>
  sale.purchases[index % Math.max(1, sale.purchases.length)];

const momentOf = (sale: Sale): Moment => ({ applied: sale.applied, queued: sale.queue.length, at: sale.now });

/** The event as `checkSaleOperation` and `freedTickets` see it; the clock is past an end that has come. */
const eventOf = (sale: Sale) => ({
  salesStartAt: null,
  preQueueOpensAt: null,
  salesEndAt: sale.ended ? new Date(0) : null,
  pausedAt: sale.paused ? new Date(0) : null,
  closedAt: sale.closed ? new Date(0) : null,
  cancelledAt: sale.cancelled ? new Date(0) : null,
});
const OPERATION_NOW = new Date(1);

/** The api's side: accept a request into the queue (a refused cancellation or resize takes no number). */
function accept(sale: Sale, command: Command & { kind: 'buy' | 'cancel' | 'resize' }): void {
  if (command.kind === 'resize') {
    if (checkSaleOperation(eventOf(sale), OPERATION_NOW, 'resize').kind === 'refused') return;
    const taken = sale.total - sale.available;
    if (checkResize({ soldTickets: taken, heldTickets: 0 }, command.total) !== undefined) return;
    sale.queue.push({ kind: 'resize', total: command.total });
    return;
  }
  if (command.kind === 'buy') {
    // After the end, or the event's cancellation, purchases are refused.
    if (sale.ended || sale.cancelled) return;
    const id = sale.purchases.length;
    sale.purchases.push({
      id,
      userId: `u${command.user}`,
      quantity: command.quantity,
      joinWaitlist: command.joinWaitlist,
      status: 'queued',
      reason: undefined,
      cancelRequested: false,
      holdExpiresAt: undefined,
      expiring: false,
      paymentReference: null,
    });
    sale.queue.push({ kind: 'purchase', id });
    return;
  }
  const purchase = pick(sale, command.pick);
  if (purchase === undefined) return;
  if (checkCancellable(purchase) !== undefined) return;
  purchase.cancelRequested = true;
  sale.queue.push({ kind: 'cancel', id: purchase.id });
}

/** The operator's side: an operation takes effect at once, when `checkSaleOperation` says it applies. */
function operate(sale: Sale, operation: Operation): void {
  const verdict = checkSaleOperation(eventOf(sale), OPERATION_NOW, operation);
  sale.timeline.push({
    kind: 'operation',
    operation,
    verdict: verdict.kind === 'refused' ? verdict.code : verdict.kind,
    ...momentOf(sale),
  });
  if (verdict.kind !== 'apply') return;
  if (operation === 'pause') sale.paused = true;
  // Closing a paused sale resumes it: the purchases accepted before the close are to be decided.
  if (operation === 'resume' || (operation === 'close' && sale.paused)) {
    sale.paused = false;
    sale.resumed = true;
  }
  if (operation === 'close') {
    // The close takes its number after every purchase.
    sale.ended = true;
    sale.queue.push({ kind: 'close' });
  }
  if (operation === 'cancel') sale.cancelled = true;
}

/** The shop confirms a payment: decided on the spot, outside the queue, by the clock of the moment. */
function pay(sale: Sale, command: Command & { kind: 'pay' }): void {
  const purchase = pick(sale, command.pick);
  if (purchase === undefined) return;
  const paymentReference = `pay-${command.reference}`;
  const check = checkConfirmable(
    {
      ...purchase,
      pastHoldExpiry: purchase.holdExpiresAt === undefined || sale.now >= purchase.holdExpiresAt,
      eventCancelled: sale.cancelled,
    },
    paymentReference,
  );
  if (check.kind === 'confirm') {
    purchase.status = 'confirmed';
    purchase.paymentReference = paymentReference;
  }
  sale.timeline.push({
    kind: 'confirm',
    id: purchase.id,
    paymentReference,
    outcome: check.kind === 'refused' ? check.refusal.code : check.kind,
    ...momentOf(sale),
  });
}

/** The worker's sweep: holds past their time, not already on their way out, share one expiry request. */
function sweep(sale: Sale): void {
  const due = sale.purchases.filter(
    (p) =>
      p.status === 'held' &&
      !p.expiring &&
      !p.cancelRequested &&
      p.holdExpiresAt !== undefined &&
      sale.now >= p.holdExpiresAt,
  );
  if (due.length === 0) return;
  for (const purchase of due) purchase.expiring = true;
  sale.queue.push({ kind: 'expire', ids: due.map((p) => p.id) });
}

const placedUsers = (sale: Sale): Set<string> =>
  new Set(
    sale.purchases
      .filter((p) => p.status === 'held' || p.status === 'confirmed' || p.status === 'waitlisted')
      .map((p) => p.userId),
  );

/** A purchase gets tickets: held until `holdTicks` from now on an event with holds, else confirmed. */
function allot(sale: Sale, purchase: Purchase): void {
  sale.available -= purchase.quantity;
  if (sale.holdTicks > 0) {
    purchase.status = 'held';
    purchase.holdExpiresAt = sale.now + sale.holdTicks;
  } else purchase.status = 'confirmed';
}

function promote(sale: Sale): void {
  const { promoted } = planPromotions(
    sale.available,
    sale.waitlist.map((id) => ({ purchaseId: String(id), quantity: purchaseOf(sale, id).quantity })),
  );
  for (const entry of promoted) allot(sale, purchaseOf(sale, Number(entry.purchaseId)));
  sale.waitlist = sale.waitlist.slice(promoted.length);
}

/** Freed tickets go to the line now, at the resume, or to nobody, as `freedTickets` says. */
function freeTickets(sale: Sale): void {
  if (freedTickets(eventOf(sale)) === 'promote') promote(sale);
}

function expire(sale: Sale, ids: readonly number[]): void {
  for (const purchase of ids.map((id) => purchaseOf(sale, id))) {
    if (expiryEffect(purchase.status) === 'none') continue;
    sale.available += purchase.quantity;
    purchase.status = 'expired';
  }
  freeTickets(sale);
}

/** One batch of the event's cancellation: its next active purchases by queue order, none promoted. */
function cancelEventBatch(sale: Sale, limit: number): void {
  const batch = sale.purchases
    .filter((p) => p.id > sale.cancellationCursor && ACTIVE_STATUSES.includes(p.status))
    .slice(0, limit);
  for (const purchase of batch) {
    const effect = cancellationEffect(purchase.status);
    if (effect === 'free_booking') sale.refundDue += purchase.quantity;
    if (effect === 'free_booking' || effect === 'free_hold') sale.available += purchase.quantity;
    if (effect === 'leave_waitlist') sale.waitlist = sale.waitlist.filter((id) => id !== purchase.id);
    purchase.status = 'cancelled';
    purchase.reason = 'event_cancelled';
  }
  sale.cancellationCursor = batch.at(-1)?.id ?? sale.cancellationCursor;
  if (batch.length < limit) sale.cancellationFinished = true;
}

/**
 * The system under test: the worker's round for one job numbered `position`, built from the domain
 * functions. `batchSize` is the event cancellation's.
 */
function applyUpTo(sale: Sale, position: number, batchSize: number): void {
  // A cancelled event's step is the next batch of its cancellation, whatever else is pending.
  if (sale.cancelled) {
    if (!sale.cancellationFinished) cancelEventBatch(sale, batchSize);
    return;
  }
  // A paused event's step is its expiries up to the job's number: holds run out during a pause.
  if (sale.paused) {
    for (let index = sale.applied; index < position; index += 1) {
      const request = sale.queue[index];
      if (request?.kind !== 'expire' || sale.appliedEarly.has(index)) continue;
      expire(sale, request.ids);
      sale.appliedEarly.add(index);
      sale.appliedAt[index] = sale.now;
      sale.timeline.push({ kind: 'early_expiry', index, ...momentOf(sale) });
    }
    return;
  }
  // Free tickets and a waiting line (tickets came back during a pause): the line gets them first.
  if (freedTickets(eventOf(sale)) === 'promote' && sale.available > 0 && sale.waitlist.length > 0) {
    const waiting = sale.waitlist.length;
    promote(sale);
    if (sale.waitlist.length < waiting) sale.timeline.push({ kind: 'promotion', ...momentOf(sale) });
  }
  sale.resumed = false;
  while (sale.applied < position) {
    const batch: Purchase[] = [];
    while (sale.applied + batch.length < position) {
      const request = sale.queue[sale.applied + batch.length];
      if (request?.kind !== 'purchase') break;
      batch.push(purchaseOf(sale, request.id));
    }
    if (batch.length > 0) {
      const { decided } = decidePurchases(
        {
          availableTickets: sale.available,
          holds: sale.holdTicks > 0,
          waitlistLength: sale.waitlist.length,
          placedUsers: placedUsers(sale),
        },
        batch.map((p) => ({
          id: String(p.id),
          userId: p.userId,
          quantity: p.quantity,
          joinWaitlist: p.joinWaitlist,
        })),
      );
      for (const { purchase, decision } of decided) {
        const row = purchaseOf(sale, Number(purchase.id));
        // A re-delivered job finds the purchase decided already and leaves it alone.
        if (row.status !== 'queued') continue;
        if (decision.status === 'held' || decision.status === 'confirmed') allot(sale, row);
        else row.status = decision.status;
        if (decision.status === 'waitlisted') sale.waitlist.push(row.id);
      }
      for (let index = 0; index < batch.length; index += 1) sale.appliedAt[sale.applied + index] = sale.now;
      sale.applied += batch.length;
      continue;
    }
    const request = sale.queue[sale.applied];
    if (request === undefined) return;
    // Carried out during a pause already.
    if (sale.appliedEarly.has(sale.applied)) {
      sale.applied += 1;
      continue;
    }
    if (request.kind === 'cancel') {
      const purchase = purchaseOf(sale, request.id);
      const effect = cancellationEffect(purchase.status);
      if (effect === 'free_booking' || effect === 'free_hold') sale.available += purchase.quantity;
      if (effect === 'leave_waitlist') sale.waitlist = sale.waitlist.filter((id) => id !== purchase.id);
      if (effect !== 'none') purchase.status = 'cancelled';
      freeTickets(sale);
    } else if (request.kind === 'expire') expire(sale, request.ids);
    else if (request.kind === 'resize') {
      const taken = sale.total - sale.available;
      sale.total = resizedTotal({ soldTickets: taken, heldTickets: 0 }, request.total);
      sale.available = sale.total - taken;
      freeTickets(sale);
    } else if (request.kind === 'close') {
      for (const id of sale.waitlist) purchaseOf(sale, id).status = 'rejected';
      sale.waitlist = [];
      sale.closed = true;
    }
    sale.appliedAt[sale.applied] = sale.now;
    sale.applied += 1;
  }
}

/** The reference model: every rule spelled out, one request at a time, the timeline where it was. */
function referenceOutcome(sale: Sale) {
  const { initialTotal, holdTicks, queue, purchases, appliedAt, timeline } = sale;
  const status = new Map<number, PurchaseStatus>();
  const heldUntil = new Map<number, number>();
  const confirmedWith = new Map<number, string>();
  const cancelledWithEvent = new Set<number>();
  const expiredEarly = new Set<number>();
  const outcomes: string[] = [];
  const verdicts: string[] = [];
  let available = initialTotal;
  let total = initialTotal;
  let ended = false;
  let closed = false;
  let paused = false;
  let cancelled = false;
  /** Resumed: the line is owed the tickets freed during the pause before anything else is decided. */
  let owed = false;
  let refundDue = 0;
  let line: number[] = [];
  let applied = 0;
  const quantity = (id: number) => purchases[id]?.quantity ?? 0;
  const statusOf = (id: number) => status.get(id) ?? 'queued';
  const give = (id: number, at: number) => {
    available -= quantity(id);
    status.set(id, holdTicks > 0 ? 'held' : 'confirmed');
    if (holdTicks > 0) heldUntil.set(id, at + holdTicks);
  };
  const promote = (at: number) => {
    // After the close, tickets coming back are sold to nobody; during a pause, they wait for the resume.
    if (closed || paused || cancelled) return;
    while (line.length > 0 && quantity(line[0] ?? -1) <= available) give(line.shift() ?? -1, at);
  };
  const expire = (ids: readonly number[]) => {
    for (const id of ids) {
      if (statusOf(id) !== 'held') continue;
      available += quantity(id);
      status.set(id, 'expired');
    }
  };
  const cancelRequestedBefore = (id: number, queued: number) =>
    queue.slice(0, queued).some((request) => request.kind === 'cancel' && request.id === id);
  const confirm = (attempt: Happening & { kind: 'confirm' }): string => {
    // Nothing of a cancelled event is confirmed, not even again: that booking is refunded.
    if (cancelled) return 'event_cancelled';
    const current = statusOf(attempt.id);
    if (current === 'confirmed') {
      const reference = confirmedWith.get(attempt.id);
      return reference === undefined || reference === attempt.paymentReference
        ? 'already_confirmed'
        : 'payment_reference_mismatch';
    }
    if (current === 'held') {
      if (cancelRequestedBefore(attempt.id, attempt.queued)) return 'purchase_cancelled';
      if (attempt.at >= (heldUntil.get(attempt.id) ?? 0)) return 'hold_expired';
      status.set(attempt.id, 'confirmed');
      confirmedWith.set(attempt.id, attempt.paymentReference);
      return 'confirm';
    }
    if (current === 'expired') return 'hold_expired';
    if (current === 'cancelled') return 'purchase_cancelled';
    if (current === 'queued') return 'not_decided';
    return 'not_held';
  };
  // The states' table (docs/running-a-sale.md): `ended` once the close is asked for.
  const verdictOn = (operation: Operation): string => {
    if (cancelled) return operation === 'cancel' ? 'repeat' : 'event_cancelled';
    if (operation === 'pause') return ended ? 'sale_ended' : paused ? 'repeat' : 'apply';
    if (operation === 'resume') return paused ? 'apply' : 'repeat';
    if (operation === 'close') return ended ? 'repeat' : 'apply';
    return 'apply';
  };
  const carryOut = (operation: Operation) => {
    if (operation === 'pause') paused = true;
    if ((operation === 'resume' || operation === 'close') && paused) {
      paused = false;
      owed = true;
    }
    if (operation === 'close') ended = true;
    if (operation === 'cancel') {
      // Every purchase still active ends cancelled at once; whatever is numbered and pending never
      // takes effect; every ticket comes back, to nobody.
      cancelled = true;
      for (const { id } of purchases) {
        const current = statusOf(id);
        if (!['queued', 'held', 'confirmed', 'waitlisted'].includes(current)) continue;
        if (current === 'confirmed') refundDue += quantity(id);
        status.set(id, 'cancelled');
        cancelledWithEvent.add(id);
      }
      available = total;
      line = [];
    }
  };
  const happenAfter = (count: number) => {
    for (const happening of timeline.filter((h) => h.applied === count)) {
      if (happening.kind === 'confirm') outcomes.push(confirm(happening));
      else if (happening.kind === 'operation') {
        const verdict = verdictOn(happening.operation);
        verdicts.push(verdict);
        if (verdict === 'apply') carryOut(happening.operation);
      } else if (happening.kind === 'early_expiry') {
        // Holds run out during a pause: their tickets come back and wait for the resume.
        const request = queue[happening.index];
        if (!paused || request?.kind !== 'expire') continue;
        expire(request.ids);
        expiredEarly.add(happening.index);
      } else {
        owed = false;
        promote(happening.at);
      }
    }
  };
  happenAfter(0);
  for (const [index, request] of queue.entries()) {
    // Nothing is decided during a pause, nor after the event's cancellation.
    if (paused || cancelled) break;
    const at = appliedAt[index] ?? 0;
    // The tickets freed during a pause go to the line before anything decided after the resume.
    if (owed) {
      owed = false;
      promote(at);
    }
    if (expiredEarly.has(index)) {
      // Carried out during the pause.
    } else if (request.kind === 'purchase') {
      const purchase = purchases[request.id];
      if (purchase === undefined) continue;
      const active = purchases.some(
        (other) =>
          other.userId === purchase.userId &&
          ['held', 'confirmed', 'waitlisted'].includes(statusOf(other.id)),
      );
      if (active) status.set(purchase.id, 'rejected');
      else if (line.length === 0 && purchase.quantity <= available) give(purchase.id, at);
      else if (purchase.joinWaitlist) {
        line.push(purchase.id);
        status.set(purchase.id, 'waitlisted');
      } else status.set(purchase.id, 'rejected');
    } else if (request.kind === 'cancel') {
      const current = statusOf(request.id);
      if (current === 'confirmed' || current === 'held') available += quantity(request.id);
      if (current === 'waitlisted') line = line.filter((id) => id !== request.id);
      if (['queued', 'held', 'confirmed', 'waitlisted'].includes(current))
        status.set(request.id, 'cancelled');
      promote(at);
    } else if (request.kind === 'expire') {
      expire(request.ids);
      promote(at);
    } else if (request.kind === 'resize') {
      // A new total at its place in the queue: what it asks, but no ticket sold or held goes away.
      const taken = total - available;
      total = Math.max(request.total, taken);
      available = total - taken;
      promote(at);
    } else {
      // The end: every purchase is decided before it, and whoever still waits in line is turned away.
      for (const id of line) status.set(id, 'rejected');
      line = [];
      closed = true;
    }
    applied = index + 1;
    happenAfter(applied);
  }
  return {
    status,
    heldUntil,
    cancelledWithEvent,
    available,
    total,
    line,
    applied,
    outcomes,
    verdicts,
    refundDue,
  };
}

function checkInvariants(sale: Sale): void {
  const quantityIn = (...statuses: PurchaseStatus[]) =>
    sale.purchases.filter((p) => statuses.includes(p.status)).reduce((sum, p) => sum + p.quantity, 0);
  // Sold and held together never exceed the total: a ticket is sold, held, or free, one of them.
  expect(sale.available).toBeGreaterThanOrEqual(0);
  expect(quantityIn('confirmed') + quantityIn('held') + sale.available).toBe(sale.total);
  if (sale.holdTicks === 0) expect(quantityIn('held', 'expired')).toBe(0);
  const active = sale.purchases.filter((p) => ['held', 'confirmed', 'waitlisted'].includes(p.status));
  expect(new Set(active.map((p) => p.userId)).size).toBe(active.length);
  // The line holds exactly the waitlisted purchases, in queue order.
  const waitlisted = sale.purchases.filter((p) => p.status === 'waitlisted').map((p) => p.id);
  expect(sale.waitlist).toEqual(waitlisted);
  // Its head never fits, except while tickets freed during a pause wait for the resume's first job,
  // and while the event's cancellation frees tickets in queue order for nobody.
  const head = sale.waitlist[0];
  if (head !== undefined && !sale.paused && !sale.resumed && !sale.cancelled)
    expect(purchaseOf(sale, head).quantity).toBeGreaterThan(sale.available);
  // Once the event's cancellation is through, nothing is sold, held or waiting.
  if (sale.cancellationFinished) {
    expect(sale.purchases.filter((p) => ACTIVE_STATUSES.includes(p.status))).toEqual([]);
    expect(sale.available).toBe(sale.total);
  }
  // A hold is only ever confirmed before its time, and never once its event is cancelled.
  let cancelled = false;
  for (const happening of sale.timeline) {
    if (happening.kind === 'operation' && happening.operation === 'cancel' && happening.verdict === 'apply')
      cancelled = true;
    if (happening.kind !== 'confirm' || happening.outcome !== 'confirm') continue;
    expect(happening.at).toBeLessThan(purchaseOf(sale, happening.id).holdExpiresAt ?? -1);
    expect(cancelled).toBe(false);
  }
}

/** How often each command comes, against the others; a close, pause or resume is an `operate`. */
type Mix = Record<Exclude<Command['kind'], 'operate'> | 'close' | 'pause' | 'resume', number>;

const commandIn = (mix: Mix): fc.Arbitrary<Command> =>
  fc.oneof(
    {
      weight: mix.buy,
      arbitrary: fc.record({
        kind: fc.constant('buy' as const),
        // Few users, so a user often buys twice: the duplicate rule is exercised.
        user: fc.integer({ min: 0, max: 7 }),
        quantity: fc.integer({ min: 1, max: 4 }),
        joinWaitlist: fc.boolean(),
      }),
    },
    { weight: mix.cancel, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
    // New totals, below what is taken at times (refused then, or cut back to it at their turn).
    {
      weight: mix.resize,
      arbitrary: fc.record({ kind: fc.constant('resize' as const), total: fc.integer({ min: 1, max: 14 }) }),
    },
    // The sale's end, early or not: every run past it refuses new purchases and pauses, and closes the
    // line.
    { weight: mix.close, arbitrary: fc.constant({ kind: 'operate' as const, operation: 'close' as const }) },
    // Pauses, repeated at times, and resumes, at times of a sale not paused.
    { weight: mix.pause, arbitrary: fc.constant({ kind: 'operate' as const, operation: 'pause' as const }) },
    {
      weight: mix.resume,
      arbitrary: fc.constant({ kind: 'operate' as const, operation: 'resume' as const }),
    },
    // Deliveries of any request's job, earlier ones included: late, repeated, out of order; the
    // newest's half the time (only those reach the expiries a pause carries out, numbered last).
    {
      weight: mix.deliver,
      arbitrary: fc.record({
        kind: fc.constant('deliver' as const),
        pick: fc.option(fc.nat(), { nil: undefined, freq: 2 }),
        batch: fc.integer({ min: 1, max: 4 }),
      }),
    },
    // Few references, so a repeated confirm often names the same payment and sometimes another.
    {
      weight: mix.pay,
      arbitrary: fc.record({
        kind: fc.constant('pay' as const),
        pick: fc.nat(),
        reference: fc.integer({ min: 0, max: 2 }),
      }),
    },
    {
      weight: mix.tick,
      arbitrary: fc.record({ kind: fc.constant('tick' as const), ticks: fc.integer({ min: 1, max: 3 }) }),
    },
    { weight: mix.sweep, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
  );

/**
 * Commands, with the event's cancellation in a share `cancelled` of the runs: it ends everything, so
 * it comes once at a random point, asked again at times later.
 */
const withEventCancellation = (
  commands: fc.Arbitrary<Command[]>,
  cancelled: number,
): fc.Arbitrary<Command[]> =>
  fc
    .tuple(
      commands,
      fc.oneof(
        { weight: 100 - Math.round(cancelled * 100), arbitrary: fc.constant(undefined) },
        {
          weight: Math.round(cancelled * 100),
          arbitrary: fc.record({ at: fc.nat(), again: fc.option(fc.nat(), { nil: undefined }) }),
        },
      ),
    )
    .map(([list, cancellation]) => {
      if (cancellation === undefined) return list;
      const cancel: Command = { kind: 'operate', operation: 'cancel' };
      const at = cancellation.at % (list.length + 1);
      const after = list.slice(at);
      if (cancellation.again !== undefined) after.splice(cancellation.again % (after.length + 1), 0, cancel);
      return [...list.slice(0, at), cancel, ...after];
    });

/** Commands in any order. (An array's default size would stop at ten commands.) */
const anyCommands = (mix: Mix): fc.Arbitrary<Command[]> =>
  withEventCancellation(fc.array(commandIn(mix), { maxLength: 60, size: 'medium' }), 0.5);

const NONE: Mix = {
  buy: 0,
  cancel: 0,
  resize: 0,
  close: 0,
  pause: 0,
  resume: 0,
  deliver: 0,
  pay: 0,
  tick: 0,
  sweep: 0,
};

/**
 * Commands in phases: the sale runs up to its newest job, then pauses while purchases come in and
 * time passes, and at some point of each pause the sweep finds the holds past their time and the
 * newest job comes, then the sale resumes (or is closed, which resumes it); a few times over. Random
 * commands alone seldom have a hold run out in a pause while a line waits.
 */
const pausedPhases: fc.Arbitrary<Command[]> = withEventCancellation(
  fc
    .array(
      fc.record({
        running: fc.array(
          commandIn({ ...NONE, buy: 6, cancel: 1, resize: 1, deliver: 4, pay: 1, tick: 1, sweep: 1 }),
          { maxLength: 10 },
        ),
        paused: fc.array(
          commandIn({
            ...NONE,
            buy: 2,
            cancel: 1,
            resize: 1,
            pause: 1,
            deliver: 2,
            pay: 2,
            tick: 2,
            sweep: 1,
          }),
          { maxLength: 6 },
        ),
        expiriesAt: fc.nat(),
        ticks: fc.integer({ min: 2, max: 4 }),
        end: fc.constantFrom<Operation>('resume', 'resume', 'resume', 'close'),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((phases) =>
      phases.flatMap(({ running, paused, expiriesAt, ticks, end }): Command[] => {
        const at = expiriesAt % (paused.length + 1);
        return [
          ...running,
          { kind: 'deliver', pick: undefined, batch: 1 },
          { kind: 'operate', operation: 'pause' },
          ...paused.slice(0, at),
          { kind: 'tick', ticks },
          { kind: 'sweep' },
          { kind: 'deliver', pick: undefined, batch: 1 },
          ...paused.slice(at),
          { kind: 'operate', operation: end },
        ];
      }),
    ),
  0.25,
);

/**
 * After the run: the event's cancellation is carried through, and time passes until every hold has
 * run out or been confirmed, as the scan of Postgres and the sweep would see to (a paused sale stays
 * paused: its holds run out, nothing else happens).
 */
function settle(sale: Sale): void {
  applyUpTo(sale, sale.queue.length, sale.purchases.length + 1);
  checkInvariants(sale);
  for (
    let round = 0;
    round <= sale.purchases.length && sale.purchases.some((p) => p.status === 'held' && !p.cancelRequested);
    round++
  ) {
    sale.now += sale.holdTicks;
    sweep(sale);
    applyUpTo(sale, sale.queue.length, sale.purchases.length + 1);
    checkInvariants(sale);
  }
}

/** Runs the commands on the system under test, checking the invariants at each step, then settles. */
function run(total: number, holdTicks: number, commands: readonly Command[]): Sale {
  const sale = newSale(total, holdTicks);
  for (const next of commands) {
    if (next.kind === 'deliver') {
      const position =
        next.pick === undefined || sale.queue.length === 0
          ? sale.queue.length
          : (next.pick % sale.queue.length) + 1;
      applyUpTo(sale, position, next.batch);
      // Delivered twice: the second changes nothing (but for the next batch of a cancellation).
      applyUpTo(sale, position, next.batch);
    } else if (next.kind === 'pay') pay(sale, next);
    else if (next.kind === 'operate') operate(sale, next.operation);
    else if (next.kind === 'tick') sale.now += next.ticks;
    else if (next.kind === 'sweep') sweep(sale);
    else accept(sale, next);
    checkInvariants(sale);
  }
  settle(sale);
  return sale;
}

function expectAsReference(sale: Sale): void {
  // Every hold ended: confirmed, cancelled or expired; but a hold being cancelled during a pause keeps
  // its tickets until the resume carries its cancellation out (no sweep expires it).
  expect(sale.purchases.filter((p) => p.status === 'held' && !(sale.paused && p.cancelRequested))).toEqual(
    [],
  );

  const reference = referenceOutcome(sale);
  expect(sale.purchases.map((p) => p.status)).toEqual(
    sale.purchases.map((p) => reference.status.get(p.id) ?? 'queued'),
  );
  // Holds were given at the same moments: every promotion came when the rules say.
  expect(sale.purchases.map((p) => p.holdExpiresAt)).toEqual(
    sale.purchases.map((p) => reference.heldUntil.get(p.id)),
  );
  expect(sale.purchases.filter((p) => p.reason === 'event_cancelled').map((p) => p.id)).toEqual(
    [...reference.cancelledWithEvent].sort((a, b) => a - b),
  );
  expect(sale.timeline.flatMap((h) => (h.kind === 'confirm' ? [h.outcome] : []))).toEqual(reference.outcomes);
  expect(sale.timeline.flatMap((h) => (h.kind === 'operation' ? [h.verdict] : []))).toEqual(
    reference.verdicts,
  );
  // Requests left pending by a pause or the event's cancellation never took effect.
  expect(sale.applied).toBe(reference.applied);
  expect(sale.available).toBe(reference.available);
  expect(sale.total).toBe(reference.total);
  expect(sale.waitlist).toEqual(reference.line);
  expect(sale.refundDue).toBe(reference.refundDue);
}

describe('sale model', () => {
  it('when purchases, cancellations, resizes, a close, pauses and resumes, the event cancellation, confirmations, expiries, duplicates and re-delivered jobs come in any order, then the sale matches the reference and its invariants hold', () => {
    const mix: Mix = {
      buy: 5,
      cancel: 2,
      resize: 1,
      close: 1,
      pause: 1,
      resume: 2,
      deliver: 4,
      pay: 3,
      tick: 2,
      sweep: 2,
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0, 2, 4),
        anyCommands(mix),
        (total, holdTicks, commands) => expectAsReference(run(total, holdTicks, commands)),
      ),
      { numRuns: 500 },
    );
  });

  it('when holds run out during pauses, then their tickets wait for the resume and go to the line before anything decided after it, as the reference says', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(2, 4),
        pausedPhases,
        (total, holdTicks, commands) => expectAsReference(run(total, holdTicks, commands)),
      ),
      { numRuns: 400 },
    );
  });
});

/**
 * The on-sale's rules, model-based: requests arrive at random moments of a random sale window, are
 * admitted by `admission` (refused, pre-queued with their draw key, or queued), and the worker's way is
 * run: nothing before the start; from it, rounds of a random batch size decide the pre-queue in key
 * order from a cursor (a round may run twice), then the queue in arrival order. The reference is the
 * plainest statement: one purchase at a time, in `onSaleOrder`.
 */
describe('on-sale model', () => {
  const window = fc
    .record({
      start: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
      end: fc.option(fc.integer({ min: 1, max: 150 }), { nil: null }),
      opensBefore: fc.option(fc.integer({ min: 0, max: 50 }), { nil: null }),
    })
    .map(({ start, end, opensBefore }) => ({
      salesStartAt: start === null ? null : new Date(start),
      salesEndAt: end === null || (start !== null && end <= start) ? null : new Date(end),
      preQueueOpensAt: start === null || opensBefore === null ? null : new Date(start - opensBefore),
    }));
  const arrival = fc.record({
    at: fc.integer({ min: -60, max: 160 }),
    user: fc.integer({ min: 0, max: 8 }),
    quantity: fc.integer({ min: 1, max: 3 }),
    joinWaitlist: fc.boolean(),
  });

  it('when requests come at any moment of any window, then the states follow time, and the pre-queue is decided in draw order before every later purchase, as one at a time would', () => {
    fc.assert(
      fc.property(
        window,
        fc.array(arrival, { maxLength: 40 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        (sale, arrivals, seed, batch, total) => {
          expect(checkSaleWindow(sale)).toBeNull();
          // The states only move forward in time.
          const order = ['scheduled', 'prequeue', 'on_sale', 'ended'];
          const states = [-60, ...arrivals.map((a) => a.at).sort((a, b) => a - b)].map((t) =>
            order.indexOf(saleWindowState(sale, new Date(t))),
          );
          expect(states).toEqual([...states].sort((a, b) => a - b));

          // Accepted in time order; one pre-queue entry per user (a second is already_queued).
          const accepted: (OrderedPurchase & PendingPurchase & { at: number })[] = [];
          const inPrequeue = new Set<string>();
          [...arrivals]
            .sort((a, b) => a.at - b.at)
            .forEach((request, index) => {
              const admitted = admission(sale, new Date(request.at));
              expect(admitted === 'sale_not_open').toBe(
                sale.preQueueOpensAt !== null &&
                  request.at < sale.preQueueOpensAt.getTime() &&
                  (sale.salesEndAt === null || request.at < sale.salesEndAt.getTime()),
              );
              if (admitted === 'sale_not_open' || admitted === 'sale_ended') return;
              const userId = `u${request.user}`;
              if (admitted === 'prequeued' && inPrequeue.has(userId)) return;
              if (admitted === 'prequeued') inPrequeue.add(userId);
              const id = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
              accepted.push({
                id,
                seq: index + 1,
                at: request.at,
                userId,
                quantity: request.quantity,
                joinWaitlist: request.joinWaitlist,
                drawKey: admitted === 'prequeued' ? drawKey(seed, id) : null,
              });
            });

          // The reference: one at a time in onSaleOrder.
          const reference = decideOneAtATime(total, onSaleOrder(accepted));

          // The worker's way: the pre-queue in key order from a cursor, in batches, each round possibly
          // run twice; then the queue in seq order.
          const decided = new Map<string, string>();
          const state = { available: total, waitlist: 0, active: new Set<string>() };
          const round = (purchases: typeof accepted) => {
            const pending = purchases.filter((p) => !decided.has(p.id));
            const result = decidePurchases(
              {
                availableTickets: state.available,
                holds: false,
                waitlistLength: state.waitlist,
                placedUsers: state.active,
              },
              pending,
            );
            for (const { purchase, decision } of result.decided) {
              decided.set(purchase.id, decision.status);
              if (decision.status === 'confirmed') state.available -= purchase.quantity;
              if (decision.status === 'waitlisted') state.waitlist += 1;
              if (decision.status === 'confirmed' || decision.status === 'waitlisted')
                state.active.add(purchase.userId);
            }
            return pending;
          };
          const entrants = drawOrder(accepted.flatMap((p) => (p.drawKey === null ? [] : [p.drawKey])));
          let cursor = '';
          for (;;) {
            const next = accepted
              .filter((p) => p.drawKey !== null && p.drawKey > cursor)
              .sort((a, b) => compareDrawKeys(a.drawKey!, b.drawKey!))
              .slice(0, batch);
            round(next);
            round(next); // re-run: changes nothing
            if (next.length < batch) break;
            cursor = next.at(-1)!.drawKey!;
          }
          const queued = accepted.filter((p) => p.drawKey === null).sort((a, b) => a.seq - b.seq);
          for (let from = 0; from < queued.length; from += batch) round(queued.slice(from, from + batch));

          expect(accepted.map((p) => decided.get(p.id))).toEqual(accepted.map((p) => reference.get(p.id)));
          // The published keys are the entrants' in drawn order, and the order puts them all first.
          const ordered = onSaleOrder(accepted);
          expect(ordered.slice(0, entrants.length).map((p) => p.drawKey)).toEqual(entrants);
          expect(ordered.slice(entrants.length).every((p) => p.drawKey === null)).toBe(true);
          // Everything pre-queued arrived before the start, everything queued at or after it.
          for (const p of accepted) {
            const start = sale.salesStartAt?.getTime() ?? Number.NEGATIVE_INFINITY;
            expect(p.drawKey !== null).toBe(p.at < start);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

function decideOneAtATime(total: number, purchases: readonly PendingPurchase[]): Map<string, string> {
  let available = total;
  let waitlist = 0;
  const active = new Set<string>();
  const outcome = new Map<string, string>();
  for (const purchase of purchases) {
    const [only] = decidePurchases(
      { availableTickets: available, holds: false, waitlistLength: waitlist, placedUsers: active },
      [purchase],
    ).decided;
    if (only === undefined) continue;
    outcome.set(purchase.id, only.decision.status);
    if (only.decision.status === 'confirmed') available -= purchase.quantity;
    if (only.decision.status === 'waitlisted') waitlist += 1;
    if (only.decision.status === 'confirmed' || only.decision.status === 'waitlisted')
      active.add(purchase.userId);
  }
  return outcome;
}
