import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cancellationEffect, checkCancellable } from '../src/domain/cancellation.js';
import { checkConfirmable, expiryEffect } from '../src/domain/hold.js';
import { decidePurchases, type PurchaseStatus } from '../src/domain/purchase.js';
import { planPromotions } from '../src/domain/waitlist.js';

/**
 * A model-based test of the sale's rules. The system under test is the worker's way of running a sale
 * with the pure domain functions: requests (purchases, cancellations and expiries) take numbers in one
 * queue, and each delivered job applies every pending request up to its own number, purchases in
 * batches through `decidePurchases`, cancellations through `cancellationEffect` + `planPromotions`,
 * expiries through `expiryEffect` + `planPromotions`. On an event with holds, a purchase that gets
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
  | { readonly kind: 'expire'; readonly ids: readonly number[] };

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
  readonly total: number;
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
  total,
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

/** The api's side: accept a request into the queue (a refused cancellation takes no number). */
function accept(sale: Sale, command: Command & { kind: 'buy' | 'cancel' }): void {
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
    }
    promote(sale);
    sale.appliedAt[sale.applied] = sale.now;
    sale.applied += 1;
  }
}

/** The reference model: every rule spelled out, one request at a time, confirmations where they were. */
function referenceOutcome(sale: Sale) {
  const { total, holdTicks, queue, purchases, appliedAt, confirmations } = sale;
  const status = new Map<number, PurchaseStatus>();
  const heldUntil = new Map<number, number>();
  const confirmedWith = new Map<number, string>();
  const outcomes: string[] = [];
  let available = total;
  let line: number[] = [];
  const quantity = (id: number) => purchases[id]?.quantity ?? 0;
  const give = (id: number, at: number) => {
    available -= quantity(id);
    status.set(id, holdTicks > 0 ? 'held' : 'confirmed');
    if (holdTicks > 0) heldUntil.set(id, at + holdTicks);
  };
  const promote = (at: number) => {
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
    } else {
      for (const id of request.ids) {
        if (status.get(id) !== 'held') continue;
        available += quantity(id);
        status.set(id, 'expired');
      }
      promote(at);
    }
    confirmAfter(index + 1);
  });
  return { status, available, line, outcomes };
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
  it('when purchases, cancellations, confirmations, expiries, duplicates and re-delivered jobs come in any order, then the sale matches the reference and its invariants hold', () => {
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
          expect(sale.waitlist).toEqual(reference.line);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
