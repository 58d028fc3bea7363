import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cancellationEffect, checkCancellable } from '../src/domain/cancellation.js';
import { decidePurchases, type PurchaseStatus } from '../src/domain/purchase.js';
import { planPromotions } from '../src/domain/waitlist.js';

/**
 * A model-based test of the sale's rules. The system under test is the worker's way of running a sale
 * with the pure domain functions: requests (purchases and cancellations) take numbers in one queue, and
 * each delivered job applies every pending request up to its own number, purchases in batches through
 * `decidePurchases`, cancellations through `cancellationEffect` + `planPromotions`. Jobs arrive late,
 * twice, or not at all (a final sweep stands for the reconciler). The reference model is the plainest
 * statement of the rules: one request at a time, in number order.
 */

interface Purchase {
  readonly id: number;
  readonly userId: string;
  readonly quantity: number;
  readonly joinWaitlist: boolean;
  status: PurchaseStatus;
  cancelRequested: boolean;
}

type Request =
  { readonly kind: 'purchase'; readonly id: number } | { readonly kind: 'cancel'; readonly id: number };

interface Sale {
  readonly total: number;
  available: number;
  /** Purchase ids in line order. */
  waitlist: number[];
  readonly purchases: Purchase[];
  /** Requests in queue order; `applied` is how many of them have been carried out. */
  readonly queue: Request[];
  applied: number;
}

const newSale = (total: number): Sale => ({
  total,
  available: total,
  waitlist: [],
  purchases: [],
  queue: [],
  applied: 0,
});

type Command =
  | { readonly kind: 'buy'; readonly user: number; readonly quantity: number; readonly joinWaitlist: boolean }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'deliver'; readonly pick: number };

/** The api's side: accept a request into the queue (a refused cancellation takes no number). */
function accept(sale: Sale, command: Command): void {
  if (command.kind === 'buy') {
    const id = sale.purchases.length;
    sale.purchases.push({
      id,
      userId: `u${command.user}`,
      quantity: command.quantity,
      joinWaitlist: command.joinWaitlist,
      status: 'queued',
      cancelRequested: false,
    });
    sale.queue.push({ kind: 'purchase', id });
  } else if (command.kind === 'cancel') {
    const purchase = sale.purchases[command.pick % Math.max(1, sale.purchases.length)];
    if (purchase === undefined) return;
    if (
      checkCancellable({ status: purchase.status, cancelRequested: purchase.cancelRequested }) !== undefined
    )
      return;
    purchase.cancelRequested = true;
    sale.queue.push({ kind: 'cancel', id: purchase.id });
  }
}

const purchaseOf = (sale: Sale, id: number): Purchase => {
  const purchase = sale.purchases[id];
  if (purchase === undefined) throw new Error(`no purchase ${id}`);
  return purchase;
};

const activeUsers = (sale: Sale): Set<string> =>
  new Set(
    sale.purchases.filter((p) => p.status === 'confirmed' || p.status === 'waitlisted').map((p) => p.userId),
  );

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
          waitlistLength: sale.waitlist.length,
          activeUsers: activeUsers(sale),
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
        row.status = decision.status;
        if (decision.status === 'confirmed') sale.available -= row.quantity;
        if (decision.status === 'waitlisted') sale.waitlist.push(row.id);
      }
      sale.applied += batch.length;
      continue;
    }
    const request = sale.queue[sale.applied];
    if (request === undefined) return;
    const purchase = purchaseOf(sale, request.id);
    const effect = cancellationEffect(purchase.status);
    if (effect === 'release_booking') sale.available += purchase.quantity;
    if (effect === 'leave_waitlist') sale.waitlist = sale.waitlist.filter((id) => id !== purchase.id);
    if (effect !== 'none') purchase.status = 'cancelled';
    const { promoted, availableTickets } = planPromotions(
      sale.available,
      sale.waitlist.map((id) => ({ purchaseId: String(id), quantity: purchaseOf(sale, id).quantity })),
    );
    for (const entry of promoted) purchaseOf(sale, Number(entry.purchaseId)).status = 'confirmed';
    sale.waitlist = sale.waitlist.slice(promoted.length);
    sale.available = availableTickets;
    sale.applied += 1;
  }
}

/** The reference model: every rule spelled out, one request at a time. */
function referenceOutcome(total: number, queue: readonly Request[], purchases: readonly Purchase[]) {
  const status = new Map<number, PurchaseStatus>();
  let available = total;
  let line: number[] = [];
  const quantity = (id: number) => purchases[id]?.quantity ?? 0;
  const promote = () => {
    while (line.length > 0 && quantity(line[0] ?? -1) <= available) {
      const head = line.shift() ?? -1;
      available -= quantity(head);
      status.set(head, 'confirmed');
    }
  };
  for (const request of queue) {
    const purchase = purchases[request.id];
    if (purchase === undefined) continue;
    if (request.kind === 'purchase') {
      const active = purchases.some(
        (other) =>
          other.userId === purchase.userId &&
          ['confirmed', 'waitlisted'].includes(status.get(other.id) ?? ''),
      );
      if (active) status.set(purchase.id, 'rejected');
      else if (line.length === 0 && purchase.quantity <= available) {
        available -= purchase.quantity;
        status.set(purchase.id, 'confirmed');
      } else if (purchase.joinWaitlist) {
        line.push(purchase.id);
        status.set(purchase.id, 'waitlisted');
      } else status.set(purchase.id, 'rejected');
    } else {
      const current = status.get(purchase.id) ?? 'queued';
      if (current === 'confirmed') available += purchase.quantity;
      if (current === 'waitlisted') line = line.filter((id) => id !== purchase.id);
      if (current !== 'rejected' && current !== 'cancelled') status.set(purchase.id, 'cancelled');
      promote();
    }
  }
  return { status, available, line };
}

function checkInvariants(sale: Sale): void {
  const confirmed = sale.purchases.filter((p) => p.status === 'confirmed');
  const sold = confirmed.reduce((sum, p) => sum + p.quantity, 0);
  expect(sale.available).toBeGreaterThanOrEqual(0);
  expect(sold + sale.available).toBe(sale.total);
  const active = sale.purchases.filter((p) => p.status === 'confirmed' || p.status === 'waitlisted');
  expect(new Set(active.map((p) => p.userId)).size).toBe(active.length);
  // The line holds exactly the waitlisted purchases, in queue order, and its head never fits.
  const waitlisted = sale.purchases.filter((p) => p.status === 'waitlisted').map((p) => p.id);
  expect(sale.waitlist).toEqual(waitlisted);
  const head = sale.waitlist[0];
  if (head !== undefined) expect(purchaseOf(sale, head).quantity).toBeGreaterThan(sale.available);
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
);

describe('sale model', () => {
  it('when purchases, cancellations, duplicates and re-delivered jobs come in any order, then the sale matches the reference and its invariants hold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(command, { maxLength: 60 }),
        (total, commands) => {
          const sale = newSale(total);
          for (const next of commands) {
            if (next.kind === 'deliver') {
              const position = sale.queue.length === 0 ? 0 : (next.pick % sale.queue.length) + 1;
              applyUpTo(sale, position);
              applyUpTo(sale, position); // delivered twice: the second changes nothing
            } else accept(sale, next);
            checkInvariants(sale);
          }
          applyUpTo(sale, sale.queue.length);
          checkInvariants(sale);

          const reference = referenceOutcome(total, sale.queue, sale.purchases);
          expect(sale.purchases.map((p) => p.status)).toEqual(
            sale.purchases.map((p) => reference.status.get(p.id) ?? 'queued'),
          );
          expect(sale.available).toBe(reference.available);
          expect(sale.waitlist).toEqual(reference.line);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
