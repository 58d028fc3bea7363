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
import { decidePurchases, type PendingPurchase, type PurchaseStatus } from '../src/domain/purchase.js';
import { admission, checkSaleWindow, saleWindowState } from '../src/domain/sale-window.js';
import { checkResize, freedTickets, resizedTotal } from '../src/domain/sale-operations.js';
import { planPromotions } from '../src/domain/waitlist.js';

/**
 * A model-based test of the sale's rules. The system under test is the worker's way of running a sale
 * with the pure domain functions: requests (purchases, cancellations, expiries, resizes and the close) take numbers in one
 * queue, and each delivered job applies every pending request up to its own number, purchases in
 * batches through `decidePurchases`, cancellations through `cancellationEffect` + `planPromotions`,
 * expiries through `expiryEffect` + `planPromotions`, resizes (refused by `checkResize` below what is
 * taken when asked) through `resizedTotal` + `planPromotions`, the close
 * (after which purchases and resizes are refused) by rejecting the line, after which `freedTickets`
 * keeps returned tickets. On an event with holds, a purchase that gets
 * tickets is held until the shop confirms it (`checkConfirmable`, at any moment, outside the queue) or
 * until the sweep finds it past its time and queues its expiry. Jobs arrive late, twice, or not at all
 * (a final sweep stands for the reconciler); time passes in ticks. The reference model is the plainest
 * statement of the rules: one request at a time, in number order, with the confirmations where they
 * happened and the clock as it was.
 */

interface Purchase {
  readonly id: number;
  readonly userId: string;
  readonly quantity: number;
  readonly joinWaitlist: boolean;
  status: PurchaseStatus;
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

/** A confirmation, where it happened: after `applied` requests, with `queued` accepted, at tick `at`. */
interface Confirmation {
  readonly id: number;
  readonly paymentReference: string;
  readonly applied: number;
  readonly queued: number;
  readonly at: number;
  readonly outcome: string;
}

interface Sale {
  readonly initialTotal: number;
  /** As resizes carried out left it. */
  total: number;
  /** The sale has ended: its close has its place in the queue (nothing is numbered after it). */
  ended: boolean;
  /** Its close was carried out: the line is closed, freed tickets are kept. */
  closed: boolean;
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
  readonly confirmations: Confirmation[];
}

const newSale = (total: number, holdTicks: number): Sale => ({
  initialTotal: total,
  total,
  ended: false,
  closed: false,
  holdTicks,
  available: total,
  now: 0,
  waitlist: [],
  purchases: [],
  queue: [],
  applied: 0,
  appliedAt: [],
  confirmations: [],
});

type Command =
  | { readonly kind: 'buy'; readonly user: number; readonly quantity: number; readonly joinWaitlist: boolean }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'resize'; readonly total: number }
  | { readonly kind: 'close' }
  | { readonly kind: 'deliver'; readonly pick: number }
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

/** The api's side: accept a request into the queue (a refused cancellation or resize takes no number). */
function accept(sale: Sale, command: Command & { kind: 'buy' | 'cancel' | 'resize' | 'close' }): void {
  if (command.kind === 'close') {
    // A repeat changes nothing; the first takes its number after every purchase.
    if (sale.ended) return;
    sale.ended = true;
    sale.queue.push({ kind: 'close' });
    return;
  }
  // After the end, purchases are refused, and so is a new total.
  if (sale.ended && command.kind !== 'cancel') return;
  if (command.kind === 'resize') {
    const taken = sale.total - sale.available;
    if (checkResize({ soldTickets: taken, heldTickets: 0 }, command.total) !== undefined) return;
    sale.queue.push({ kind: 'resize', total: command.total });
    return;
  }
  if (command.kind === 'buy') {
    const id = sale.purchases.length;
    sale.purchases.push({
      id,
      userId: `u${command.user}`,
      quantity: command.quantity,
      joinWaitlist: command.joinWaitlist,
      status: 'queued',
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

/** The shop confirms a payment: decided on the spot, outside the queue, by the clock of the moment. */
function pay(sale: Sale, command: Command & { kind: 'pay' }): void {
  const purchase = pick(sale, command.pick);
  if (purchase === undefined) return;
  const paymentReference = `pay-${command.reference}`;
  const check = checkConfirmable(
    {
      ...purchase,
      pastHoldExpiry: purchase.holdExpiresAt === undefined || sale.now >= purchase.holdExpiresAt,
      eventCancelled: false,
    },
    paymentReference,
  );
  if (check.kind === 'confirm') {
    purchase.status = 'confirmed';
    purchase.paymentReference = paymentReference;
  }
  sale.confirmations.push({
    id: purchase.id,
    paymentReference,
    applied: sale.applied,
    queued: sale.queue.length,
    at: sale.now,
    outcome: check.kind === 'refused' ? check.refusal.code : check.kind,
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

/** The system under test: the worker's batches, built from the domain functions. */
function applyUpTo(sale: Sale, position: number): void {
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
    if (request.kind === 'cancel') {
      const purchase = purchaseOf(sale, request.id);
      const effect = cancellationEffect(purchase.status);
      if (effect === 'free_booking' || effect === 'free_hold') sale.available += purchase.quantity;
      if (effect === 'leave_waitlist') sale.waitlist = sale.waitlist.filter((id) => id !== purchase.id);
      if (effect !== 'none') purchase.status = 'cancelled';
    } else if (request.kind === 'expire') {
      for (const purchase of request.ids.map((id) => purchaseOf(sale, id))) {
        if (expiryEffect(purchase.status) === 'none') continue;
        sale.available += purchase.quantity;
        purchase.status = 'expired';
      }
    } else if (request.kind === 'resize') {
      const taken = sale.total - sale.available;
      sale.total = resizedTotal({ soldTickets: taken, heldTickets: 0 }, request.total);
      sale.available = sale.total - taken;
    } else if (request.kind === 'close') {
      for (const id of sale.waitlist) purchaseOf(sale, id).status = 'rejected';
      sale.waitlist = [];
      sale.closed = true;
    }
    const closedAt = sale.closed ? new Date(0) : null;
    if (freedTickets({ pausedAt: null, closedAt }) === 'promote') promote(sale);
    sale.appliedAt[sale.applied] = sale.now;
    sale.applied += 1;
  }
}

/** The reference model: every rule spelled out, one request at a time, confirmations where they were. */
function referenceOutcome(sale: Sale) {
  const { initialTotal, holdTicks, queue, purchases, appliedAt, confirmations } = sale;
  const status = new Map<number, PurchaseStatus>();
  const heldUntil = new Map<number, number>();
  const confirmedWith = new Map<number, string>();
  const outcomes: string[] = [];
  let available = initialTotal;
  let total = initialTotal;
  let closed = false;
  let line: number[] = [];
  const quantity = (id: number) => purchases[id]?.quantity ?? 0;
  const give = (id: number, at: number) => {
    available -= quantity(id);
    status.set(id, holdTicks > 0 ? 'held' : 'confirmed');
    if (holdTicks > 0) heldUntil.set(id, at + holdTicks);
  };
  const promote = (at: number) => {
    // After the close, tickets coming back are sold to nobody.
    if (closed) return;
    while (line.length > 0 && quantity(line[0] ?? -1) <= available) give(line.shift() ?? -1, at);
  };
  const cancelRequestedBefore = (id: number, queued: number) =>
    queue.slice(0, queued).some((request) => request.kind === 'cancel' && request.id === id);
  const confirmAfter = (applied: number) => {
    for (const attempt of confirmations.filter((c) => c.applied === applied)) {
      const current = status.get(attempt.id) ?? 'queued';
      let outcome: string;
      if (current === 'confirmed') {
        const reference = confirmedWith.get(attempt.id);
        outcome =
          reference === undefined || reference === attempt.paymentReference
            ? 'already_confirmed'
            : 'payment_reference_mismatch';
      } else if (current === 'held') {
        if (cancelRequestedBefore(attempt.id, attempt.queued)) outcome = 'purchase_cancelled';
        else if (attempt.at >= (heldUntil.get(attempt.id) ?? 0)) outcome = 'hold_expired';
        else {
          outcome = 'confirm';
          status.set(attempt.id, 'confirmed');
          confirmedWith.set(attempt.id, attempt.paymentReference);
        }
      } else if (current === 'expired') outcome = 'hold_expired';
      else if (current === 'cancelled') outcome = 'purchase_cancelled';
      else if (current === 'queued') outcome = 'not_decided';
      else outcome = 'not_held';
      outcomes.push(outcome);
    }
  };
  confirmAfter(0);
  queue.forEach((request, index) => {
    const at = appliedAt[index] ?? 0;
    if (request.kind === 'purchase') {
      const purchase = purchases[request.id];
      if (purchase === undefined) return;
      const active = purchases.some(
        (other) =>
          other.userId === purchase.userId &&
          ['held', 'confirmed', 'waitlisted'].includes(status.get(other.id) ?? ''),
      );
      if (active) status.set(purchase.id, 'rejected');
      else if (line.length === 0 && purchase.quantity <= available) give(purchase.id, at);
      else if (purchase.joinWaitlist) {
        line.push(purchase.id);
        status.set(purchase.id, 'waitlisted');
      } else status.set(purchase.id, 'rejected');
    } else if (request.kind === 'cancel') {
      const current = status.get(request.id) ?? 'queued';
      if (current === 'confirmed' || current === 'held') available += quantity(request.id);
      if (current === 'waitlisted') line = line.filter((id) => id !== request.id);
      if (['queued', 'held', 'confirmed', 'waitlisted'].includes(current))
        status.set(request.id, 'cancelled');
      promote(at);
    } else if (request.kind === 'expire') {
      for (const id of request.ids) {
        if (status.get(id) !== 'held') continue;
        available += quantity(id);
        status.set(id, 'expired');
      }
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
    confirmAfter(index + 1);
  });
  return { status, available, total, line, outcomes };
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
  // The line holds exactly the waitlisted purchases, in queue order, and its head never fits.
  const waitlisted = sale.purchases.filter((p) => p.status === 'waitlisted').map((p) => p.id);
  expect(sale.waitlist).toEqual(waitlisted);
  const head = sale.waitlist[0];
  if (head !== undefined) expect(purchaseOf(sale, head).quantity).toBeGreaterThan(sale.available);
  // A hold is only ever confirmed before its time.
  for (const confirmation of sale.confirmations.filter((c) => c.outcome === 'confirm')) {
    expect(confirmation.at).toBeLessThan(purchaseOf(sale, confirmation.id).holdExpiresAt ?? -1);
  }
}

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('buy' as const),
      // Few users, so a user often buys twice: the duplicate rule is exercised.
      user: fc.integer({ min: 0, max: 7 }),
      quantity: fc.integer({ min: 1, max: 4 }),
      joinWaitlist: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  // New totals, below what is taken at times (refused then, or cut back to it at their turn).
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('resize' as const), total: fc.integer({ min: 1, max: 14 }) }),
  },
  // The sale's end, early or not: every run past it refuses new purchases and closes the line.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
  // Deliveries of any request's job, earlier ones included: late, repeated, out of order.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  // Few references, so a repeated confirm often names the same payment and sometimes another.
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      pick: fc.nat(),
      reference: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ticks: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
);

/** After the run: time passes until every hold has run out or been confirmed, as the sweep would see. */
function settle(sale: Sale): void {
  applyUpTo(sale, sale.queue.length);
  for (
    let round = 0;
    round <= sale.purchases.length && sale.purchases.some((p) => p.status === 'held');
    round++
  ) {
    sale.now += sale.holdTicks;
    sweep(sale);
    applyUpTo(sale, sale.queue.length);
    checkInvariants(sale);
  }
}

describe('sale model', () => {
  it('when purchases, cancellations, resizes, a close, confirmations, expiries, duplicates and re-delivered jobs come in any order, then the sale matches the reference and its invariants hold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0, 2, 4),
        fc.array(command, { maxLength: 60 }),
        (total, holdTicks, commands) => {
          const sale = newSale(total, holdTicks);
          for (const next of commands) {
            if (next.kind === 'deliver') {
              const position = sale.queue.length === 0 ? 0 : (next.pick % sale.queue.length) + 1;
              applyUpTo(sale, position);
              applyUpTo(sale, position); // delivered twice: the second changes nothing
            } else if (next.kind === 'pay') pay(sale, next);
            else if (next.kind === 'tick') sale.now += next.ticks;
            else if (next.kind === 'sweep') sweep(sale);
            else accept(sale, next);
            checkInvariants(sale);
          }
          settle(sale);
          // Every hold ended: confirmed, cancelled or expired.
          expect(sale.purchases.filter((p) => p.status === 'held')).toEqual([]);

          const reference = referenceOutcome(sale);
          expect(sale.purchases.map((p) => p.status)).toEqual(
            sale.purchases.map((p) => reference.status.get(p.id) ?? 'queued'),
          );
          expect(sale.confirmations.map((c) => c.outcome)).toEqual(reference.outcomes);
          expect(sale.available).toBe(reference.available);
          expect(sale.total).toBe(reference.total);
          expect(sale.waitlist).toEqual(reference.line);
        },
      ),
      { numRuns: 1_000 },
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
